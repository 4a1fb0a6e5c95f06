// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${parent.…} templates
/**
 * DAG children and depends_on on a queue, in process, against the repository's Redis
 * (FAUCET_TEST_REDIS_URL): the fake source and sink (fixture packages found through
 * FAUCET_PLUGIN_PATH) with the Redis state store. Each test has a queue, pipeline name and state
 * namespace of its own.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPipeline, PipelineFileError } from '@faucet/pipeline';
import { cleanupTempDirs, fakePluginDir, tempDir, withRedis, write } from '@faucet/test-support';
import { afterAll, expect, it } from 'vitest';
import { childEnqueuer } from '../src/children.js';
import {
  assertQueueable,
  cancelRun,
  executionReport,
  type FaucetWorker,
  followRun,
  type InvocationQueue,
  openQueue,
  QueueRunConflictError,
  runJobs,
  runStatus,
  startWorker,
  submitRun,
} from '../src/index.js';
import { fileHash } from '../src/submit.js';

const host = { label: 'runner-bullmq tests', dir: join(dirname(fileURLToPath(import.meta.url)), '..') };
const plugins = fakePluginDir();
const env = { ...process.env, FAUCET_PLUGIN_PATH: plugins };

afterAll(cleanupTempDirs);

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { id: string; parent: { id: string } | null });

withRedis('DAG children and depends_on on a queue', (url) => {
  const queues: InvocationQueue[] = [];
  const workers: FaucetWorker[] = [];
  afterAll(async () => {
    for (const worker of workers) await worker.close();
    for (const queue of queues) {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  function setup(matrix: string, extra = '') {
    const name = `dq_${randomBytes(4).toString('hex')}`;
    const dir = tempDir('faucet-runner-dag-');
    const file = write(
      join(dir, 'pipeline.yaml'),
      `version: 1
name: ${name}
pipeline:
  source: { type: fake, config: { count: 4 } }
  sink: { type: fake, config: { path: ${dir}/out.jsonl } }
  state: { type: redis, config: { connection_url: "${url}", namespace: ${name} } }
  batch_size: 2
matrix:
${matrix}
${extra}`,
    );
    const target = { url, queueName: name };
    const queue = openQueue(target);
    queues.push(queue);
    return { name, dir, file, target, queue };
  }
  const load = (file: string) => loadPipeline(file, { env, host });

  it('runs a child job per record the parent wrote, ids from the child state keys; the report counts them', async () => {
    const { name, dir, file, target, queue } = setup(
      '  - { id: users, source: { config: { count: 5, prefix: u } } }\n' +
        '  - id: posts\n    parent: users\n    source: { config: { count: 3, prefix: "${parent.id}-p" } }\n' +
        '    sink: { config: { path: "./posts/${parent.id}.jsonl" } }',
    );
    const pipeline = await load(file);
    assertQueueable(pipeline);
    const run = await submitRun(pipeline, queue, target);
    expect(run.jobs.map((j) => j.stateKey)).toEqual([`${name}::users`]);
    workers.push(await startWorker({ ...target, env, host, concurrency: 2 }));
    const followed = await followRun(queue, run, { pollMs: 50 });
    const report = executionReport(run, followed, 0);
    expect(report.status, JSON.stringify(report.rows)).toBe('ok');
    expect(report.rows.map((r) => [r.id, r.status, r.invocations])).toEqual([
      ['users', 'ok', 1],
      ['posts', 'ok', 5],
    ]);
    const childKeys = report.invocations.filter((i) => i.row === 'posts').map((i) => i.stateKey);
    expect(childKeys.sort()).toEqual([1, 2, 3, 4, 5].map((n) => `${name}::posts::u${n}`));
    expect((await runJobs(queue, run)).map((j) => j.jobId).sort()).toEqual(
      [`${name}||users`, ...[1, 2, 3, 4, 5].map((n) => `${name}||posts||u${n}`)].sort(),
    );
    for (let n = 1; n <= 5; n++) {
      const written = lines(join(dir, 'posts', `u${n}.jsonl`));
      expect(written.map((r) => r.id)).toEqual([`u${n}-p1`, `u${n}-p2`, `u${n}-p3`]);
      expect(written.every((r) => r.parent?.id === `u${n}`)).toBe(true);
    }
    const statuses = await runStatus(queue, run);
    expect(statuses.map((s) => s.state)).toEqual(Array(6).fill('ok'));
  });

  it("a child row with children of its own: grandchild jobs are added by the child jobs' workers", async () => {
    const { name, file, target, queue } = setup(
      '  - { id: users, source: { config: { count: 2, prefix: u } } }\n' +
        '  - { id: posts, parent: users, source: { config: { count: 2, prefix: "${parent.id}-p" } } }\n' +
        '  - { id: notes, parent: posts, source: { config: { count: 1, prefix: "${parent.id}-n" } } }',
    );
    const pipeline = await load(file);
    assertQueueable(pipeline);
    const run = await submitRun(pipeline, queue, target);
    workers.push(await startWorker({ ...target, env, host, concurrency: 2 }));
    const report = executionReport(run, await followRun(queue, run, { pollMs: 50 }), 0);
    expect(report.status).toBe('ok');
    expect(report.rows.map((r) => [r.id, r.status, r.invocations])).toEqual([
      ['users', 'ok', 1],
      ['posts', 'ok', 2],
      ['notes', 'ok', 4],
    ]);
    expect(
      report.invocations
        .filter((i) => i.row === 'notes')
        .map((i) => i.stateKey)
        .sort(),
    ).toEqual(['u1-p1', 'u1-p2', 'u2-p1', 'u2-p2'].map((id) => `${name}::notes::${id}`));
  });

  it('a page handed off again (a re-delivered parent) adds no child twice; a child owed is added by the next run', async () => {
    const { name, file, target, queue } = setup(
      '  - { id: users }\n  - { id: posts, parent: users, source: { config: { prefix: "${parent.id}" } } }',
    );
    const pipeline = await load(file);
    const run = await submitRun(pipeline, queue, target);
    const parentData = {
      runId: run.runId,
      file,
      fileHash: fileHash(file),
      pipeline: name,
      row: 'users',
      stateKey: `${name}::users`,
    };
    const handOff = childEnqueuer(queue, pipeline, parentData);
    const page = [{ id: 'u1' }, { id: 'u2' }];
    await handOff(page);
    await handOff([...page, { id: 'u3' }]);
    const children = (await runJobs(queue, run)).filter((j) => j.row === 'posts');
    expect(children.map((j) => j.jobId).sort()).toEqual([
      `${name}||posts||u1`,
      `${name}||posts||u2`,
      `${name}||posts||u3`,
    ]);
    expect((await queue.getJobCounts('waiting')).waiting).toBe(4);

    // Another parent invocation of this run writing the same key is a duplicate, not a re-read page.
    const other = childEnqueuer(queue, pipeline, { ...parentData, stateKey: `${name}::other` });
    await expect(other([{ id: 'u1' }])).rejects.toThrow(/duplicate state key ".*::posts::u1"/);

    // Cancelled before any child ran: the children stay owed, and the next submission adds them.
    await cancelRun(queue, run);
    expect((await queue.getJobCounts('waiting')).waiting).toBe(0);
    const next = await submitRun(pipeline, queue, target);
    const owed = (await runJobs(queue, next)).filter((j) => j.row === 'posts');
    expect(owed.map((j) => [j.jobId, j.added]).sort()).toEqual([
      [`${name}||posts||u1`, true],
      [`${name}||posts||u2`, true],
      [`${name}||posts||u3`, true],
    ]);
    workers.push(await startWorker({ ...target, env, host }));
    const report = executionReport(next, await followRun(queue, next, { pollMs: 50 }), 0);
    // The 3 owed children, and one for each of the 4 records users writes now (ids 1 to 4).
    expect(report.rows.map((r) => [r.id, r.status, r.invocations])).toEqual([
      ['users', 'ok', 1],
      ['posts', 'ok', 7],
    ]);
    // Every child ran ok: nothing is owed any more.
    const third = await submitRun(pipeline, queue, target);
    expect(third.jobs.map((j) => j.row)).toEqual(['users']);
    expect((await runJobs(queue, third)).filter((j) => j.row === 'posts')).toEqual([]);
    await followRun(queue, third, { pollMs: 50 });
  });

  it('B waits for A: it is added only once A has ended ok', async () => {
    const { file, target, queue, dir } = setup(
      '  - { id: a, source: { config: { prefix: a } } }\n  - { id: b, depends_on: [a], source: { config: { prefix: b } } }',
    );
    const pipeline = await load(file);
    const run = await submitRun(pipeline, queue, target);
    expect(run.jobs.map((j) => [j.row, j.added, j.deferred ?? false])).toEqual([
      ['a', true, false],
      ['b', false, true],
    ]);
    expect(await queue.getJobState(run.jobs[1]?.jobId as string)).toBe('unknown');
    const events: string[] = [];
    workers.push(
      await startWorker({
        ...target,
        env,
        host,
        concurrency: 2,
        events: {
          started: (data) => events.push(`started ${data.row}`),
          finished: (data, result) => events.push(`finished ${data.row} ${result.status}`),
        },
      }),
    );
    const report = executionReport(run, await followRun(queue, run, { pollMs: 50 }), 0);
    expect(report.status).toBe('ok');
    expect(events).toEqual(['started a', 'finished a ok', 'started b', 'finished b ok']);
    expect(lines(join(dir, 'out.jsonl')).map((r) => r.id)).toEqual([
      'a1',
      'a2',
      'a3',
      'a4',
      'b1',
      'b2',
      'b3',
      'b4',
    ]);
  });

  it('with A failing, B is never added and ends skipped; the run fails', async () => {
    const { file, target, queue } = setup(
      '  - { id: a, source: { config: { fail_after: 1, fail_message: "a broke" } } }\n' +
        '  - { id: b, depends_on: [a] }\n  - { id: c, depends_on: [b] }',
    );
    const pipeline = await load(file);
    const run = await submitRun(pipeline, queue, target);
    const started: string[] = [];
    workers.push(
      await startWorker({ ...target, env, host, events: { started: (d) => started.push(d.row) } }),
    );
    const report = executionReport(run, await followRun(queue, run, { pollMs: 50 }), 0);
    expect(report.status).toBe('failed');
    expect(report.rows.map((r) => [r.id, r.status, r.reason ?? ''])).toEqual([
      ['a', 'failed', '1 of 1 invocations failed'],
      ['b', 'skipped', 'dependency "a" failed'],
      ['c', 'skipped', 'dependency "b" was skipped'],
    ]);
    expect(started).toEqual(['a']);
    expect(await queue.getJobState(run.jobs[1]?.jobId as string)).toBe('unknown');
  });

  it('when no worker could tell the rows waiting (the file changed), the follower derives their skip', async () => {
    const { file, target, queue } = setup('  - { id: a }\n  - { id: b, depends_on: [a] }');
    const pipeline = await load(file);
    const run = await submitRun(pipeline, queue, target);
    write(file, `${readFileSync(file, 'utf8')}# edited\n`);
    workers.push(await startWorker({ ...target, env, host }));
    const report = executionReport(run, await followRun(queue, run, { pollMs: 50 }), 0);
    expect(report.rows.map((r) => [r.id, r.status, r.reason])).toEqual([
      ['a', 'failed', '1 of 1 invocations failed'],
      ['b', 'skipped', 'dependency "a" failed'],
    ]);
    expect((await runStatus(queue, run)).map((s) => s.state)).toEqual(['failed', 'skipped']);
  });

  it('a resubmission while a row ordered by depends_on still waits in another run is refused, adding nothing', async () => {
    const { file, target, queue } = setup('  - { id: a }\n  - { id: b, depends_on: [a] }\n  - { id: c }');
    const pipeline = await load(file);
    await submitRun(pipeline, queue, target);
    const counts = await queue.getJobCounts('waiting');
    const error = await submitRun(pipeline, queue, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueRunConflictError);
    expect((error as QueueRunConflictError).code).toBe('QUEUE_RUN_CONFLICT');
    expect((error as Error).message).toMatch(
      /row "a" is ordered by depends_on, but a job of run \S+ for it is still/,
    );
    expect(await queue.getJobCounts('waiting')).toEqual(counts);
  });

  it('refuses, with its reason, depends_on a DAG child row', async () => {
    const { file } = setup(
      '  - { id: a }\n  - { id: b, parent: a, source: { config: { prefix: "${parent.id}" } } }\n' +
        '  - { id: c, depends_on: [b] }',
    );
    const pipeline = await load(file);
    expect(() => assertQueueable(pipeline)).toThrow(PipelineFileError);
    expect(() => assertQueueable(pipeline)).toThrow(
      /"b" is a DAG child row; depends_on a child row is not run on a queue yet/,
    );
  });
});
