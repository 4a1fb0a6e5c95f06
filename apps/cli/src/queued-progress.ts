/**
 * What `faucet run --queue` shows while it follows its jobs: the display of a local run
 * (progress.ts), fed from the queue instead of the engine. A job's live progress (put in the job by
 * its worker about once a second) becomes the engine's progress event; an ended job becomes its
 * invocation outcome; a row ends once all its jobs have. A job that ran between two looks is shown
 * started, then finished. A DAG child row's jobs are added by the workers as its parent writes, so
 * its number of jobs grows as they are seen and the row ends with the run (`finishChildRows`).
 */
import type { ExecutionObserver, InvocationInfo, RowOutcome } from '@faucet/pipeline';
import type {
  FollowedJob,
  FollowOptions,
  InvocationJobProgress,
  SubmittedJob,
  SubmittedRun,
} from '@faucet/runner-bullmq';

type Runner = typeof import('@faucet/runner-bullmq');

export type QueuedObserver = Required<Pick<FollowOptions, 'onProgress' | 'onFinished'>> & {
  /** End the DAG child rows on the display as the run's report has them (their jobs are never all known before). */
  finishChildRows(rows: readonly RowOutcome[]): void;
};

/** The rows of a run in submission order, each with its number of jobs (DAG child rows last, 0 jobs known). */
export function rowsOf(run: SubmittedRun): Map<string, number> {
  const rows = new Map<string, number>();
  for (const job of run.jobs) rows.set(job.row, (rows.get(job.row) ?? 0) + 1);
  for (const { id } of run.childRows ?? []) if (!rows.has(id)) rows.set(id, 0);
  return rows;
}

const WORST: RowOutcome['status'][] = ['failed', 'cancelled', 'ok'];

export function queuedObserver(
  runner: Runner,
  run: SubmittedRun,
  display: ExecutionObserver,
): QueuedObserver {
  const jobsPerRow = rowsOf(run);
  const started = new Set<string>();
  /** Jobs of each row that have run (been shown started). */
  const ranPerRow = new Map<string, number>();
  const endedPerRow = new Map<string, RowOutcome['status'][]>();
  const childRows = new Set((run.childRows ?? []).map((r) => r.id));
  const infoOf = (job: SubmittedJob): InvocationInfo => ({
    row: job.row,
    stateKey: job.stateKey,
    ...(job.parentKey === undefined ? {} : { parentKey: job.parentKey }),
  });

  const ensureStarted = (job: SubmittedJob): void => {
    if (started.has(job.jobId)) return;
    started.add(job.jobId);
    const ran = ranPerRow.get(job.row) ?? 0;
    ranPerRow.set(job.row, ran + 1);
    if (childRows.has(job.row)) display.rowStarted?.(job.row, ran + 1);
    else if (ran === 0) display.rowStarted?.(job.row, jobsPerRow.get(job.row) ?? 1);
    display.invocationStarted?.(infoOf(job));
  };

  const endRowIfDone = (row: string, status: RowOutcome['status'], reason?: string): void => {
    if (childRows.has(row)) return;
    const ended = [...(endedPerRow.get(row) ?? []), status];
    endedPerRow.set(row, ended);
    const total = jobsPerRow.get(row) ?? 1;
    if (ended.length < total) return;
    const worst = WORST.find((s) => ended.includes(s)) ?? 'ok';
    const ran = ranPerRow.get(row) ?? 0;
    display.rowFinished?.({
      id: row,
      status: worst,
      invocations: ran,
      ...(ran === 0 && reason ? { reason } : {}),
    });
  };

  return {
    onProgress(job: SubmittedJob, progress: InvocationJobProgress) {
      ensureStarted(job);
      display.progress?.(infoOf(job), runner.progressEvent(run, progress));
    },
    onFinished(followed: FollowedJob) {
      // A job that never ran (cancelled or removed before a worker took it) has no invocation to show.
      if (followed.attempts === 0 && !followed.outcome && !started.has(followed.job.jobId)) {
        endRowIfDone(followed.job.row, followed.status, followed.reason);
        return;
      }
      ensureStarted(followed.job);
      const outcome = runner.invocationOutcome(followed);
      display.invocationFinished?.(outcome);
      endRowIfDone(followed.job.row, outcome.status);
    },
    finishChildRows(rows) {
      for (const row of rows) if (childRows.has(row.id)) display.rowFinished?.(row);
    },
  };
}
