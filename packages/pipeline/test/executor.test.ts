// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are about ${…} interpolation syntax
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '@faucet/core';
import { cleanupTempDirs, fakePluginDir, tempDir, write } from '@faucet/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../src/config/load.js';
import { type ExecutionObserver, executePipeline } from '../src/executor.js';

afterAll(cleanupTempDirs);

const plugins = fakePluginDir();

async function setup(yaml: (dir: string) => string) {
  const dir = tempDir();
  const file = write(join(dir, 'dag.yaml'), yaml(dir));
  const pipeline = await loadPipeline(file, { cwd: dir, env: {}, pluginPath: plugins, cpus: 2 });
  return { dir, pipeline };
}

function lines(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function stateKeys(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5).replaceAll('%3A', ':'))
    .sort();
}

/** Records the order invocations start and end in. */
function recorder() {
  const events: string[] = [];
  const observer: ExecutionObserver = {
    invocationStarted: (info) => events.push(`start ${info.stateKey}`),
    invocationFinished: (o) => events.push(`end ${o.stateKey} ${o.status}`),
  };
  return { events, observer };
}

const dagYaml = (dir: string, extra = '') => `version: 1
name: shop
pipeline:
  source: { type: fake, config: { count: 3 } }
  sink: { type: fake, config: { path: ${dir}/out/default.jsonl } }
  state: { type: file, config: { path: ${dir}/state } }
  batch_size: 2
matrix:
  - id: users
    source: { config: { prefix: u } }
    sink: { config: { path: ${dir}/out/users.jsonl } }
  - id: posts
    parent: users
    source: { config: { prefix: "\${parent.id}-p", count: 2 } }
    sink: { config: { path: "${dir}/out/posts-\${parent.id}.jsonl" } }
  - id: report
    depends_on: [posts]
    sink: { config: { path: ${dir}/out/report.jsonl } }
  - id: lonely
    sink: { config: { path: ${dir}/out/lonely.jsonl } }
${extra}`;

describe('executePipeline', () => {
  it('runs parents, then one child per written record, then dependants, with their state keys', async () => {
    const { dir, pipeline } = await setup((d) => dagYaml(d, 'execution: { max_concurrent: 1 }\n'));
    const { events, observer } = recorder();
    const report = await executePipeline(pipeline, { logger: silentLogger, observer });
    expect(report.status).toBe('ok');
    expect(report.rows.map((r) => [r.id, r.status, r.invocations])).toEqual([
      ['users', 'ok', 1],
      ['posts', 'ok', 3],
      ['report', 'ok', 1],
      ['lonely', 'ok', 1],
    ]);
    const starts = events.filter((e) => e.startsWith('start')).map((e) => e.slice(6));
    expect(starts.indexOf('shop::users')).toBeLessThan(starts.indexOf('shop::posts::u1'));
    expect(starts.indexOf('shop::posts::u3')).toBeLessThan(starts.indexOf('shop::report'));
    // Every child starts after users ended; report starts after every child ended.
    const end = (key: string) => events.indexOf(`end ${key} ok`);
    const start = (key: string) => events.indexOf(`start ${key}`);
    for (const u of ['u1', 'u2', 'u3']) {
      expect(start(`shop::posts::${u}`)).toBeGreaterThan(end('shop::users'));
      expect(start('shop::report')).toBeGreaterThan(end(`shop::posts::${u}`));
    }
    expect(stateKeys(join(dir, 'state'))).toEqual([
      'shop::lonely',
      'shop::posts::u1',
      'shop::posts::u2',
      'shop::posts::u3',
      'shop::report',
      'shop::users',
    ]);
    expect(lines(join(dir, 'out', 'posts-u2.jsonl')).map((r) => [r.id, r.parent])).toEqual([
      ['u2-p1', { id: 'u2' }],
      ['u2-p2', { id: 'u2' }],
    ]);

    // A second run resumes everywhere: nothing new for the parent, so no child runs.
    const again = await executePipeline(pipeline, { logger: silentLogger });
    expect(again.status).toBe('ok');
    expect(again.invocations.map((i) => [i.stateKey, i.result?.recordsWritten])).toEqual(
      expect.arrayContaining([
        ['shop::users', 0],
        ['shop::report', 0],
      ]),
    );
    expect(again.rows.find((r) => r.id === 'posts')).toMatchObject({
      invocations: 0,
      reason: expect.stringMatching(/wrote no records/),
    });
  });

  it('captures only written rows: rejected (dead-lettered) parents get no child', async () => {
    const { dir, pipeline } = await setup(
      (d) => `name: dlq
pipeline:
  source: { type: fake }
  sink: { type: fake, config: { path: ${d}/parents.jsonl } }
  dlq: { sink: { type: fake, config: { path: ${d}/dlq.jsonl } } }
matrix:
  - id: parents
    source:
      config:
        records: [{ id: a }, { id: b, reject: true }, { id: c }]
  - id: kids
    parent: parents
    source: { type: fake, config: { count: 1, prefix: "\${parent.id}-" } }
    sink: { config: { path: ${d}/kids.jsonl } }
    dlq: null
`,
    );
    const report = await executePipeline(pipeline, { logger: silentLogger });
    expect(report.status).toBe('ok');
    expect(lines(join(dir, 'kids.jsonl')).map((r) => r.id)).toEqual(['a-1', 'c-1']);
    expect(lines(join(dir, 'dlq.jsonl')).map((e) => (e.payload as { id: string }).id)).toEqual(['b']);
  });

  it('fails a child row with duplicate keys before running any of it (continue: others go on)', async () => {
    const { pipeline } = await setup(
      (d) => `name: dup
pipeline:
  source: { type: fake, config: { records: [{ id: x }, { id: x }] } }
  sink: { type: fake, config: { path: ${d}/p.jsonl } }
matrix:
  - id: parents
  - id: kids
    parent: parents
    sink: { config: { path: ${d}/kids.jsonl } }
  - id: grandkids
    parent: kids
  - id: independent
`,
    );
    const { events, observer } = recorder();
    const report = await executePipeline(pipeline, { logger: silentLogger, observer });
    expect(report.status).toBe('failed');
    const kids = report.rows.find((r) => r.id === 'kids');
    expect(kids).toMatchObject({ status: 'failed', invocations: 0 });
    expect(kids?.reason).toContain('duplicate state keys: "dup::kids::x" (parent records 1 and 2)');
    expect(report.rows.find((r) => r.id === 'grandkids')).toMatchObject({
      status: 'skipped',
      reason: 'parent "kids" failed',
    });
    expect(report.rows.find((r) => r.id === 'independent')?.status).toBe('ok');
    expect(events.some((e) => e.includes('dup::kids'))).toBe(false);
  });

  it('on_error: stop cancels the rest; continue skips only what depends on the failure', async () => {
    const yaml = (onError: string) => (d: string) =>
      `name: stop
pipeline:
  source: { type: fake, config: { count: 100, delay_ms: 20 } }
  sink: { type: fake, config: { path: ${d}/out.jsonl } }
  state: { type: file, config: { path: ${d}/state } }
  batch_size: 10
matrix:
  - id: broken
    source: { config: { fail_after: 0, fail_message: "no such table" } }
  - id: after_broken
    depends_on: [broken]
  - id: slow
execution: { max_concurrent: 2, on_error: ${onError} }
`;
    const stop = await setup(yaml('stop'));
    const stopped = await executePipeline(stop.pipeline, { logger: silentLogger });
    expect(stopped.status).toBe('failed');
    expect(stopped.rows.map((r) => [r.id, r.status])).toEqual([
      ['broken', 'failed'],
      ['after_broken', 'skipped'],
      ['slow', 'cancelled'],
    ]);
    const slow = stopped.invocations.find((i) => i.row === 'slow');
    expect(slow?.result?.recordsWritten).toBeLessThan(100);
    expect(stopped.rows[0]?.error?.message).toContain('no such table');

    const go = await setup(yaml('continue'));
    const continued = await executePipeline(go.pipeline, { logger: silentLogger });
    expect(continued.rows.map((r) => [r.id, r.status])).toEqual([
      ['broken', 'failed'],
      ['after_broken', 'skipped'],
      ['slow', 'ok'],
    ]);
  });

  it('--dry-run writes and stores nothing but still walks the DAG; --limit stops early', async () => {
    const { dir, pipeline } = await setup((d) => dagYaml(d));
    const dry = await executePipeline(pipeline, { logger: silentLogger, mode: 'dry-run' });
    expect(dry.status).toBe('ok');
    expect(dry.invocations.filter((i) => i.row === 'posts')).toHaveLength(3);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(existsSync(join(dir, 'state')) ? stateKeys(join(dir, 'state')) : []).toEqual([]);

    const limited = await executePipeline(pipeline, { logger: silentLogger, limit: 1 });
    expect(limited.status).toBe('ok');
    expect(lines(join(dir, 'out', 'users.jsonl'))).toHaveLength(1);
    expect(limited.invocations.find((i) => i.row === 'users')).toMatchObject({
      limitReached: true,
      status: 'ok',
    });
    expect(existsSync(join(dir, 'state')) ? stateKeys(join(dir, 'state')) : []).toEqual([]);
  });
});

describe('pending parents', () => {
  const yaml = (d: string) => `name: pend
pipeline:
  source:
    type: fake
    config:
      count: 4
      fail_after: \${env:PARENT_FAIL_AFTER}
  sink: { type: fake, config: { path: ${d}/parents.jsonl } }
  state: { type: file, config: { path: ${d}/state } }
  batch_size: 2
matrix:
  - id: parents
    source: { config: { prefix: p } }
  - id: kids
    parent: parents
    source: { config: { count: 1, fail_after: 99, label: "\${parent.id}", fail_if_label: "\${env:BROKEN_KID}", prefix: "\${parent.id}-" } }
    sink: { config: { path: "${d}/kids-\${parent.id}.jsonl" } }
`;

  async function run(dir: string, env: NodeJS.ProcessEnv) {
    const pipeline = await loadPipeline(join(dir, 'pend.yaml'), {
      cwd: dir,
      env,
      pluginPath: plugins,
      cpus: 2,
    });
    return executePipeline(pipeline, { logger: silentLogger });
  }

  it('runs a child later for parents whose child failed, or whose parent failed after writing them', async () => {
    const dir = tempDir();
    write(join(dir, 'pend.yaml'), yaml(dir));
    const pendingFile = join(dir, 'state', 'pend%3A%3A%3Apending%3Akids.json');

    // 1: the parent writes p1, p2 (one checkpointed page), then fails: the child row is skipped,
    // and p1, p2 are kept as pending.
    const first = await run(dir, { PARENT_FAIL_AFTER: '2', BROKEN_KID: 'none' });
    expect(first.rows.map((r) => [r.id, r.status])).toEqual([
      ['parents', 'failed'],
      ['kids', 'skipped'],
    ]);
    expect(stateKeys(join(dir, 'state'))).toEqual(['pend:::pending:kids', 'pend::parents']);

    // 2: the parent resumes with p3, p4; the child runs for p1..p4, but fails for p3.
    const second = await run(dir, { PARENT_FAIL_AFTER: '99', BROKEN_KID: 'p3' });
    expect(second.rows.map((r) => [r.id, r.status, r.invocations])).toEqual([
      ['parents', 'ok', 1],
      ['kids', 'failed', 4],
    ]);
    const pending = JSON.parse(readFileSync(pendingFile, 'utf8')) as { parents: Array<{ id: string }> };
    expect(pending.parents.map((p) => p.id)).toEqual(['p3']);

    // 3: nothing new from the parent, but p3 is still owed its child run.
    const third = await run(dir, { PARENT_FAIL_AFTER: '99', BROKEN_KID: 'none' });
    expect(third.status).toBe('ok');
    expect(third.invocations.filter((i) => i.row === 'kids').map((i) => i.stateKey)).toEqual([
      'pend::kids::p3',
    ]);
    expect(existsSync(pendingFile)).toBe(false);
    for (const p of ['p1', 'p2', 'p3', 'p4']) {
      expect(lines(join(dir, `kids-${p}.jsonl`)).map((r) => r.id)).toEqual([`${p}-1`]);
    }

    // 4: all done: no child runs.
    const fourth = await run(dir, { PARENT_FAIL_AFTER: '99', BROKEN_KID: 'none' });
    expect(fourth.invocations.map((i) => i.stateKey)).toEqual(['pend::parents']);
  });
});
