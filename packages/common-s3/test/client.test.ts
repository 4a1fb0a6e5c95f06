/**
 * createS3Client on Node 20: the SDK's one-time Node version warning is not emitted, unless the user
 * set AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED (then the SDK does what it says), and the
 * variable is not left behind. Each case runs in its own process (the SDK warns at most once per
 * process) and counts process warnings, whatever their text.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const entry = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js');
const script = `
let warnings = 0;
process.on('warning', () => { warnings++; });
const { createS3Client } = await import(${JSON.stringify(entry)});
const client = createS3Client({ bucket: 'b', region: 'us-east-1', max_attempts: 1 });
client.destroy();
await new Promise((r) => setTimeout(r, 50));
const left = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? null;
console.log(JSON.stringify({ warnings, left }));
`;

function run(env: Record<string, string>): { warnings: number; left: string | null } {
  const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _, ...base } = process.env;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...base, ...env },
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

const node20 = Number(process.versions.node.split('.')[0]) < 22;

describe('createS3Client and the SDK Node version warning', () => {
  it('emits no warning and leaves no variable behind', () => {
    expect(run({})).toEqual({ warnings: 0, left: null });
  });

  it.runIf(node20)('keeps the warning when the user set the variable to false', () => {
    expect(run({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' })).toEqual({
      warnings: 1,
      left: 'false',
    });
  });
});
