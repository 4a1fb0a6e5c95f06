/**
 * On Node 24+ the CLI re-executes itself in place with Node 20's young-generation limit for the
 * commands that move records (peak RSS, BENCHMARKS.md "Node 20, 22 and 24"). The decision as a pure
 * function, then through the real CLI on whatever Node runs this suite (CI runs it on 20 and 24).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FROM_NODE_MAJOR,
  GROWTH_CAP_SEMI_SPACE_MB,
  SEMI_SPACE_MB,
  youngGenerationGrowthCap,
  youngGenerationReexec,
} from '../src/young-generation.js';
import {
  assertBuilt,
  cleanupTempDirs,
  linkRuntime,
  readJsonl,
  startCli,
  tempDir,
  write,
  writePackage,
} from './helpers.js';

const FLAG = `--max-semi-space-size=${SEMI_SPACE_MB}`;
const facts = (over: Partial<Parameters<typeof youngGenerationReexec>[0]> = {}) => ({
  argv: ['/usr/bin/node', '/x/bin.js', 'run', 'pipeline.yaml'],
  execArgv: [] as string[],
  env: {} as NodeJS.ProcessEnv,
  nodeVersion: 'v24.22.3',
  canExecve: true,
  ...over,
});

/**
 * `faucet run` of a one-source pipeline whose source (a package in the run's node_modules) runs
 * `read` — the body of an async generator — after `prelude`; returns the child and the first record.
 */
async function runSource(id: string, read: string, env: NodeJS.ProcessEnv, prelude = '') {
  const dir = tempDir();
  const nodeModules = join(dir, 'node_modules');
  linkRuntime(nodeModules);
  writePackage(nodeModules, {
    name: `faucet-source-${id}`,
    faucet: { apiVersion: 1, kind: 'source', id },
    code: `
import { connectorPackage, defineSource } from '@faucet/core';
import { z } from 'zod';
${prelude}
export default defineSource({
  ...connectorPackage(import.meta.url),
  configSchema: z.strictObject({}),
  create() {
    return {
      async *read() {
${read}
      },
    };
  },
});
`,
  });
  write(
    join(dir, 'pipeline.yaml'),
    `version: 1
name: ${id}
pipeline:
  source: { type: ${id} }
  sink: { type: file, config: { path: ./out.jsonl, format: jsonl } }
  state: { type: memory }
`,
  );
  const cli = startCli(['run', 'pipeline.yaml', '-q'], { cwd: dir, env });
  const result = await cli.done;
  expect(result.code, result.stderr).toBe(0);
  const [record] = readJsonl(join(dir, 'out.jsonl'));
  return { child: cli.child, record };
}

describe('youngGenerationReexec', () => {
  it('re-executes a run on Node 24 with the flag before the script, keeping every argument', () => {
    expect(youngGenerationReexec(facts({ execArgv: ['--import', 'probe.mjs'] }), '/usr/bin/node')).toEqual([
      '/usr/bin/node',
      '--import',
      'probe.mjs',
      FLAG,
      '/x/bin.js',
      'run',
      'pipeline.yaml',
    ]);
    expect(youngGenerationReexec(facts({ nodeVersion: 'v26.1.0' }), 'node')).toContain(FLAG);
    const dlq = facts({ argv: ['node', 'bin.js', '--quiet', 'dlq', 'replay'] });
    expect(youngGenerationReexec(dlq, 'node')).toContain(FLAG);
  });

  it('leaves Node 20 and 22, short commands, a flag already given, FAUCET_V8_DEFAULTS=1 and no execve alone', () => {
    expect(youngGenerationReexec(facts({ nodeVersion: 'v20.20.2' }), 'node')).toBeUndefined();
    expect(youngGenerationReexec(facts({ nodeVersion: 'v22.23.5' }), 'node')).toBeUndefined();
    for (const command of ['--version', 'validate', 'connectors', 'state']) {
      expect(youngGenerationReexec(facts({ argv: ['node', 'bin.js', command] }), 'node')).toBeUndefined();
    }
    expect(youngGenerationReexec(facts({ argv: ['node', 'bin.js'] }), 'node')).toBeUndefined();
    expect(youngGenerationReexec(facts({ execArgv: ['--max-semi-space-size=64'] }), 'node')).toBeUndefined();
    const nodeOptions = facts({ env: { NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=8' } });
    expect(youngGenerationReexec(nodeOptions, 'node')).toBeUndefined();
    expect(youngGenerationReexec(facts({ env: { FAUCET_V8_DEFAULTS: '1' } }), 'node')).toBeUndefined();
    expect(youngGenerationReexec(facts({ canExecve: false }), 'node')).toBeUndefined();
  });
});

describe('faucet run on this Node', () => {
  beforeAll(assertBuilt);
  afterAll(cleanupTempDirs);

  it('runs in the same process, with the limit on Node 24+ and without it on Node 20 and 22', async () => {
    // A source whose one record says how the process that reads it was started.
    const { child, record } = await runSource(
      'process',
      '        yield { records: [{ pid: process.pid, exec_argv: process.execArgv }] };',
      { FAUCET_V8_DEFAULTS: '' },
    );
    expect(record?.pid).toBe(child.pid);
    const major = Number(process.versions.node.split('.')[0]);
    const canExecve = typeof (process as { execve?: unknown }).execve === 'function';
    if (major >= FROM_NODE_MAJOR && canExecve) expect(record?.exec_argv).toContain(FLAG);
    else expect(record?.exec_argv).not.toContain(FLAG);
  });
});

describe('youngGenerationGrowthCap', () => {
  it('caps the growth where the CLI cannot re-execute: Node 20 and 22, or no execve', () => {
    expect(youngGenerationGrowthCap(facts({ nodeVersion: 'v20.20.2' }))).toBe(GROWTH_CAP_SEMI_SPACE_MB);
    expect(youngGenerationGrowthCap(facts({ nodeVersion: 'v22.23.5' }))).toBe(GROWTH_CAP_SEMI_SPACE_MB);
    expect(youngGenerationGrowthCap(facts({ canExecve: false }))).toBe(GROWTH_CAP_SEMI_SPACE_MB);
    expect(youngGenerationGrowthCap(facts())).toBeUndefined(); // Node 24 re-executes instead
  });

  it('leaves short commands, any semi-space flag given and FAUCET_V8_DEFAULTS=1 alone', () => {
    const node20 = (over: Partial<Parameters<typeof youngGenerationReexec>[0]>) =>
      youngGenerationGrowthCap(facts({ nodeVersion: 'v20.20.2', ...over }));
    for (const command of ['--version', 'validate', 'connectors', 'state']) {
      expect(node20({ argv: ['node', 'bin.js', command] })).toBeUndefined();
    }
    for (const flag of [
      '--max-semi-space-size=32',
      '--semi_space_growth_factor=4',
      '--min-semi-space-size=2',
    ]) {
      expect(node20({ execArgv: [flag] })).toBeUndefined();
      expect(node20({ env: { NODE_OPTIONS: `--enable-source-maps ${flag}` } })).toBeUndefined();
    }
    expect(node20({ env: { FAUCET_V8_DEFAULTS: '1' } })).toBeUndefined();
  });
});

describe("a faucet run's young generation on this Node", () => {
  beforeAll(assertBuilt);
  afterAll(cleanupTempDirs);

  // A source that churns through ~600 MiB of records, keeping the last few pages alive (as a run
  // does), then reports the largest young generation it saw (MiB).
  const churn = `
        let largest = 0;
        const kept = [];
        for (let page = 0; page < 3000; page++) {
          const records = [];
          for (let i = 0; i < 1000; i++) records.push({ id: page * 1000 + i, name: 'n' + i, tags: [i, String(i)] });
          kept.push(records);
          if (kept.length > 4) kept.shift();
          largest = Math.max(largest, newSpace());
          await new Promise((resolve) => setImmediate(resolve));
        }
        yield { records: [{ largest_new_space: largest }] };`;
  const prelude = `import { getHeapSpaceStatistics } from 'node:v8';
const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;`;
  const run = async (env: NodeJS.ProcessEnv) => {
    const { record } = await runSource('churn', churn, env, prelude);
    return Number(record?.largest_new_space) / (1024 * 1024);
  };

  it('stays within the cap (Node 20 and 22) or the re-executed limit (Node 24), and grows past it with V8 defaults', async () => {
    const major = Number(process.versions.node.split('.')[0]);
    const reexec = major >= FROM_NODE_MAJOR && typeof (process as { execve?: unknown }).execve === 'function';
    const semiSpaceMb = reexec ? SEMI_SPACE_MB : GROWTH_CAP_SEMI_SPACE_MB;
    const tuned = await run({ FAUCET_V8_DEFAULTS: '' });
    const defaults = await run({ FAUCET_V8_DEFAULTS: '1' });
    // new_space counts both semi-spaces
    expect(tuned).toBeLessThanOrEqual(2 * semiSpaceMb);
    expect(defaults).toBeGreaterThan(2 * semiSpaceMb);
  }, 120_000);
});
