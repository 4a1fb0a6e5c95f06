/**
 * Start-up stays light: `faucet --version` and `--help` load neither @faucet/core, zod, yaml nor any
 * connector, and `faucet validate` loads only the connectors its file names. Observed through the
 * real CLI with a module-loading hook that lists every ES module the process loads (timings are
 * measured by bench/cli-startup.mjs, never here).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BIN, cleanupTempDirs, REPO_DIR, tempDir, write } from './helpers.js';

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

/** The ES modules a `faucet` process loads, as file URLs (node: built-ins left out). */
function modulesLoaded(args: string[], cwd: string): string[] {
  const dir = tempDir('faucet-modules-');
  const log = join(dir, 'modules.txt');
  const hooks = write(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (!url.startsWith('node:')) appendFileSync(${JSON.stringify(log)}, url + '\\n');
  return next(url, context);
}
`,
  );
  const register = write(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
  write(log, '');
  const result = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, FAUCET_PLUGIN_PATH: '', FAUCET_V8_DEFAULTS: '1' },
  });
  expect(result.status, result.stderr).toBe(0);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

const owner = (url: string) =>
  url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//)?.[1] ??
  url
    .match(/\/(packages|apps)\/([^/]+)\//)
    ?.slice(1)
    .join('/') ??
  url;

describe('what a faucet command loads', () => {
  it('--version and --help: the CLI and commander only', () => {
    const cwd = tempDir();
    for (const args of [['--version'], ['--help']]) {
      const owners = new Set(modulesLoaded(args, cwd).map(owner));
      expect([...owners].sort(), args.join(' ')).toEqual(['apps/cli', 'commander']);
    }
  });

  it('validate on the quick start: the two connectors it names, and no other', () => {
    const dir = tempDir();
    cpSync(join(REPO_DIR, 'examples/quickstart/pipeline.yaml'), join(dir, 'pipeline.yaml'));
    cpSync(join(REPO_DIR, 'examples/quickstart/data'), join(dir, 'data'), { recursive: true });
    const owners = new Set(modulesLoaded(['validate', 'pipeline.yaml'], dir).map(owner));
    const connectors = [...owners].filter((o) => /(^|\/)(source|sink|state)-/.test(o)).sort();
    expect(connectors).toEqual(['packages/sink-file', 'packages/source-file']);
    // No OpenTelemetry SDK, no engine-only extras: the telemetry SDK stays unloaded unless asked.
    expect([...owners].filter((o) => o.startsWith('@opentelemetry/') && o !== '@opentelemetry/api')).toEqual(
      [],
    );
  });

  it('a local run: no queue runner, no dashboard (Bull Board, Hono), no BullMQ', () => {
    const dir = tempDir();
    cpSync(join(REPO_DIR, 'examples/quickstart/pipeline.yaml'), join(dir, 'pipeline.yaml'));
    cpSync(join(REPO_DIR, 'examples/quickstart/data'), join(dir, 'data'), { recursive: true });
    const owners = [...new Set(modulesLoaded(['run', 'pipeline.yaml', '-q'], dir).map(owner))];
    expect(owners).toContain('packages/pipeline');
    const queueSide = owners.filter((o) =>
      /^(packages\/(runner|dashboard)-bullmq|@bull-board\/|hono$|@hono\/|bullmq$|ioredis$)/.test(o),
    );
    expect(queueSide).toEqual([]);
  });
});
