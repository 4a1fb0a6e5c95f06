/**
 * Submitting, following and working jobs against the repository's Redis (FAUCET_TEST_REDIS_URL),
 * in process: a fake source and sink (fixture packages found through FAUCET_PLUGIN_PATH) with the
 * Redis state store. Each test has a queue, pipeline name and state namespace of its own.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPipeline } from '@faucet/pipeline';
import { cleanupTempDirs, fakePluginDir, tempDir, withRedis, write } from '@faucet/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import {
  executionReport,
  type FaucetWorker,
  followRun,
  type InvocationQueue,
  loadRun,
  openQueue,
  probeRedis,
  QueueUnreachableError,
  startWorker,
  submitRun,
} from '../src/index.js';

/** This package as the host, so @faucet/state-redis (a devDependency) is found like a CLI's own. */
const host = { label: 'runner-bullmq tests', dir: join(dirname(fileURLToPath(import.meta.url)), '..') };
const plugins = fakePluginDir();
const env = { ...process.env, FAUCET_PLUGIN_PATH: plugins };

afterAll(cleanupTempDirs);

describe('probeRedis', () => {
  it('names host:port when nothing answers, without hanging', async () => {
    const error = await probeRedis('redis://127.0.0.1:1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueUnreachableError);
    expect((error as Error).message).toContain('127.0.0.1:1');
    expect((error as QueueUnreachableError).code).toBe('QUEUE_UNREACHABLE');
  });

  it('never shows the password of the URL', async () => {
    const error = await probeRedis('redis://user:hunter2@127.0.0.1:1').catch((e: unknown) => e);
    expect((error as Error).message).not.toContain('hunter2');
  });
});

withRedis('queued runs on Redis', (url) => {
  const queues: InvocationQueue[] = [];
  const workers: FaucetWorker[] = [];
  afterAll(async () => {
    for (const worker of workers) await worker.close();
    for (const queue of queues) {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  function setup(rows: string, extra = '') {
    const name = `rq_${randomBytes(4).toString('hex')}`;
    const dir = tempDir('faucet-runner-');
    const out = join(dir, 'out.jsonl');
    const file = write(
      join(dir, 'pipeline.yaml'),
      `version: 1
name: ${name}
pipeline:
  source: { type: fake, config: { count: 30 } }
  sink: { type: fake, config: { path: ${out} } }
  state: { type: redis, config: { connection_url: "${url}", namespace: ${name} } }
  batch_size: 10
matrix:
${rows}
${extra}`,
    );
    const target = { url, queueName: name };
    const queue = openQueue(target);
    queues.push(queue);
    return { name, file, out, target, queue };
  }

  const load = (file: string) => loadPipeline(file, { env, host });

  it('a resubmission while the jobs wait adds nothing; a worker runs each invocation once', async () => {
    const { file, out, target, queue } = setup(
      '  - { id: a, source: { config: { prefix: a } } }\n  - { id: b, source: { config: { prefix: b } } }',
    );
    const pipeline = await load(file);
    const first = await submitRun(pipeline, queue, target);
    const again = await submitRun(pipeline, queue, target);
    expect(first.jobs.map((j) => j.added)).toEqual([true, true]);
    expect(again.jobs.map((j) => j.added)).toEqual([false, false]);
    expect((await queue.getJobCounts('waiting')).waiting).toBe(2);
    expect((await loadRun(queue, first.runId))?.jobs).toHaveLength(2);

    workers.push(await startWorker({ ...target, env, host, concurrency: 2 }));
    const followed = await followRun(queue, again, { pollMs: 50 });
    const report = executionReport(again, followed, 0);
    expect(report.status).toBe('ok');
    expect(report.invocations.map((i) => i.result?.recordsWritten)).toEqual([30, 30]);
    const ids = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).id as string);
    expect(ids.sort()).toEqual(
      [
        ...Array.from({ length: 30 }, (_, i) => `a${i + 1}`),
        ...Array.from({ length: 30 }, (_, i) => `b${i + 1}`),
      ].sort(),
    );

    // Submitted again once finished: a new job per row, which resumes from the stored bookmark (nothing left).
    const later = await submitRun(pipeline, queue, target);
    expect(later.jobs.map((j) => j.added)).toEqual([true, true]);
    const rerun = executionReport(later, await followRun(queue, later, { pollMs: 50 }), 0);
    expect(rerun.status, JSON.stringify(rerun.invocations)).toBe('ok');
    expect(
      rerun.invocations.map((i) => i.result?.recordsRead),
      JSON.stringify(rerun.invocations),
    ).toEqual([0, 0]);
  });

  it('a failing invocation is tried 1 + execution.retries times, then ends failed with its error', async () => {
    const { file, target, queue } = setup(
      '  - { id: bad, source: { config: { fail_after: 15, fail_message: "upstream said no" } } }',
      'execution: { retries: 2 }\n',
    );
    const pipeline = await load(file);
    const run = await submitRun(pipeline, queue, target);
    workers.push(await startWorker({ ...target, env, host }));
    const [followed] = await followRun(queue, run, { pollMs: 50 });
    expect(followed?.status).toBe('failed');
    expect(followed?.attempts).toBe(3);
    const report = executionReport(run, followed ? [followed] : [], 0);
    expect(report.status).toBe('failed');
    expect(report.invocations[0]?.error?.message).toContain('upstream said no');
  });

  it('a job whose file changed after submission is refused by the worker, not run', async () => {
    const { file, target, queue } = setup('  - { id: a }');
    const pipeline = await load(file);
    const run = await submitRun(pipeline, queue, target);
    write(file, `${readFileSync(file, 'utf8')}# edited\n`);
    workers.push(await startWorker({ ...target, env, host }));
    const [followed] = await followRun(queue, run, { pollMs: 50 });
    expect(followed?.status).toBe('failed');
    expect(followed?.outcome?.error?.message).toContain('differs from the one submitted');
  });
});
