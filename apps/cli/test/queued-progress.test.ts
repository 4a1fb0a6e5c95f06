/**
 * The display of `faucet run --queue` is the local run's, fed from followed jobs: a job's live
 * progress, its end, and a row's end once all its jobs ended. No Redis here: the callbacks are fed
 * as followRun would feed them.
 */

import type { InvocationJobProgress, SubmittedRun } from '@faucet/runner-bullmq';
import * as runner from '@faucet/runner-bullmq';
import { describe, expect, it } from 'vitest';
import { createDisplay } from '../src/progress.js';
import { queuedObserver, rowsOf } from '../src/queued-progress.js';

function stream() {
  const chunks: string[] = [];
  return {
    text: () => chunks.join(''),
    write(chunk: string) {
      chunks.push(chunk);
      return true;
    },
  } as unknown as NodeJS.WritableStream & { text(): string };
}

const run: SubmittedRun = {
  runId: 'run-1',
  submittedAt: '2026-01-01T12:00:00.000Z',
  pipeline: 'orders',
  file: '/pipelines/orders.yaml',
  queueName: 'faucet',
  jobs: [
    { row: 'eu', stateKey: 'orders::eu', jobId: 'orders||eu', added: true },
    { row: 'us', stateKey: 'orders::us', jobId: 'orders||us', added: true },
  ],
};
const [eu, us] = run.jobs as [(typeof run.jobs)[0], (typeof run.jobs)[0]];

const progress = (pages: number): InvocationJobProgress => ({
  kind: 'progress',
  type: 'page',
  row: 'eu',
  stateKey: 'orders::eu',
  worker: 'host-a:1',
  pages,
  recordsRead: pages * 500,
  recordsWritten: pages * 500,
  recordsDeadLettered: 0,
  checkpoints: pages,
  ratePerSec: 250,
  elapsedMs: pages * 2000,
  lastCheckpointAt: '2026-01-01T12:00:09.000Z',
});

describe('the display of a run on a queue', () => {
  it('plain mode: started, progress lines of the local run, the end of each job and row', () => {
    let now = 0;
    const out = stream();
    const display = createDisplay({
      stream: out,
      tty: false,
      rows: [...rowsOf(run).keys()],
      now: () => now,
      plainIntervalMs: 5000,
    });
    const observer = queuedObserver(runner, run, display);
    observer.onProgress(eu, progress(1));
    now = 6000;
    observer.onProgress(eu, progress(3));
    observer.onFinished({
      job: eu,
      status: 'ok',
      attempts: 1,
      outcome: {
        kind: 'result',
        row: 'eu',
        stateKey: 'orders::eu',
        status: 'ok',
        limitReached: false,
        durationMs: 7000,
        result: {
          runId: 'x',
          stateKey: 'orders::eu',
          recordsRead: 2000,
          recordsWritten: 2000,
          recordsDeadLettered: 0,
          pages: 4,
          checkpoints: 4,
          pagesSkipped: 0,
        },
        worker: 'host-a:1',
      },
    });
    // Cancelled before a worker took it: no invocation, the row says why.
    observer.onFinished({ job: us, status: 'cancelled', reason: 'cancelled before it started', attempts: 0 });
    display.finish();
    const lines = out
      .text()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.replace(/^\[\d\d:\d\d:\d\d\] /, ''));
    expect(lines).toEqual([
      'eu: started (state key orders::eu)',
      'eu: 1,500 records written (250/s), 3 pages, last checkpoint 12:00:09',
      'eu: ok, 2,000 records written in 7.0s (2,000 read, 0 dead-lettered, 4 pages, 4 checkpoints)',
      'us: cancelled (cancelled before it started)',
    ]);
  });

  it('DAG child rows: their jobs, added by the workers, are shown as they end; the row ends with the report', () => {
    const dagRun: SubmittedRun = {
      ...run,
      jobs: [{ row: 'users', stateKey: 'orders::users', jobId: 'orders||users', added: true }],
      childRows: [{ id: 'posts', parent: 'users' }],
    };
    const out = stream();
    const display = createDisplay({
      stream: out,
      tty: false,
      rows: [...rowsOf(dagRun).keys()],
      now: () => 0,
    });
    expect([...rowsOf(dagRun)]).toEqual([
      ['users', 1],
      ['posts', 0],
    ]);
    const observer = queuedObserver(runner, dagRun, display);
    const child = (key: string) => ({
      row: 'posts',
      stateKey: `orders::posts::${key}`,
      jobId: `orders||posts||${key}`,
      parentKey: key,
      added: true,
    });
    for (const key of ['u1', 'u2']) observer.onFinished({ job: child(key), status: 'ok', attempts: 1 });
    observer.onFinished({ job: dagRun.jobs[0] as (typeof dagRun.jobs)[0], status: 'ok', attempts: 1 });
    observer.finishChildRows([
      { id: 'users', status: 'ok', invocations: 1 },
      { id: 'posts', status: 'ok', invocations: 2 },
    ]);
    display.finish();
    const lines = out.text().split('\n').filter(Boolean);
    expect(lines.filter((l) => l.includes('started'))).toHaveLength(3);
    expect(lines.filter((l) => /posts.*: ok/.test(l))).toHaveLength(2);
  });
});
