/**
 * Following a submitted run until every job has ended: completed (the worker's report), failed
 * after its last attempt (the report of that attempt, kept in the job's progress), or gone; a row
 * waiting in `depends_on` ends skipped when a dependency did not succeed. The DAG children the
 * workers add are listed again on every look (run-state.ts) and followed as well: the run has
 * ended once every job listed after the last parent ended has ended too (a parent's job ends only
 * after its children were listed). Polls the jobs' states, so a restart of the submitter or a
 * missed event loses nothing. While a job is active, its live progress (`kind: 'progress'`, put
 * there by the worker) is passed on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { predecessorProblem } from '@faucet/pipeline';
import type { Job } from 'bullmq';
import { isCancelled } from './cancel.js';
import type { InvocationQueue } from './queue.js';
import { type RowEnd, rowEnds, runJobs } from './run-state.js';
import type {
  FollowedJob,
  InvocationJobProgress,
  InvocationJobResult,
  SubmittedJob,
  SubmittedRun,
} from './types.js';

export interface FollowOptions {
  /** Stop following (the jobs go on); the result then lacks the jobs still running. */
  signal?: AbortSignal;
  /** Between two looks at the pending jobs (default 250 ms). */
  pollMs?: number;
  /** Between two reads of the running jobs' progress (default 1000 ms: workers update it about once a second). */
  progressMs?: number;
  /** A running job's progress, each time it changed since the last look. */
  onProgress?(job: SubmittedJob, progress: InvocationJobProgress): void;
  onFinished?(job: FollowedJob): void;
}

function isResult(value: unknown): value is InvocationJobResult {
  return (
    typeof value === 'object' &&
    value !== null &&
    'status' in value &&
    'stateKey' in value &&
    (value as { kind?: unknown }).kind !== 'progress'
  );
}

function isLiveProgress(value: unknown): value is InvocationJobProgress {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'progress';
}

const skipped = (job: SubmittedJob, reason: string | undefined): FollowedJob => ({
  job,
  status: 'skipped',
  reason: reason ?? 'skipped',
  attempts: 0,
});

/**
 * The end of a row waiting in `depends_on` whose job was not added (yet): skipped as its workers
 * recorded, or as follows from how its dependencies' jobs ended — also when no worker could record
 * it (a job failed by BullMQ itself after stalling too often) — or undefined while it waits.
 */
async function deferredEnd(
  queue: InvocationQueue,
  job: SubmittedJob,
  run: SubmittedRun,
  seen: ReadonlySet<string>,
): Promise<FollowedJob | undefined> {
  const recorded: RowEnd | undefined = (await rowEnds(queue, run.runId)).get(job.row);
  if (recorded?.status === 'skipped') return skipped(job, recorded.reason);
  for (const id of job.waitsFor ?? []) {
    const before = run.jobs.find((j) => j.row === id);
    if (!before || seen.has(id)) continue;
    const end = await endOf(queue, before, run, new Set([...seen, job.row]));
    if (end && end.status !== 'ok') return skipped(job, predecessorProblem({}, [{ id, status: end.status }]));
  }
  return undefined;
}

interface Look {
  /** BullMQ's state (`waiting`, `active`, `completed`…, `unknown` once removed). */
  state: string;
  /** Set once the job has ended. */
  end?: FollowedJob;
}

async function look(
  queue: InvocationQueue,
  job: SubmittedJob,
  run?: SubmittedRun,
  seen: ReadonlySet<string> = new Set(),
): Promise<Look> {
  // The state first, then the job: a job read before it finished lacks its return value.
  const state = await queue.getJobState(job.jobId);
  if (state === 'unknown') {
    if (job.deferred && run) {
      const end = await deferredEnd(queue, job, run, seen);
      if (end) return { state, end };
    }
    if (await isCancelled(queue, job.jobId))
      return { state, end: { job, status: 'cancelled', reason: 'cancelled before it started', attempts: 0 } };
    if (job.deferred) return { state };
    return { state, end: gone(job) };
  }
  if (state !== 'completed' && state !== 'failed') return { state };
  const found: Job | undefined = await queue.getJob(job.jobId);
  if (!found) return { state, end: gone(job) };
  const attempts = found.attemptsMade;
  if (state === 'completed') {
    const outcome = found.returnvalue as unknown;
    if (!isResult(outcome)) return { state, end: { job, status: 'ok', attempts } };
    return { state, end: { job, outcome, status: outcome.status, attempts } };
  }
  const progress = found.progress as unknown;
  const outcome = isResult(progress) ? progress : undefined;
  return {
    state,
    end: {
      job,
      status: 'failed',
      ...(outcome ? { outcome } : {}),
      reason: found.failedReason || 'failed',
      attempts,
    },
  };
}

/** The end of one job, or undefined while it is still waiting, delayed or running. */
export async function endOf(
  queue: InvocationQueue,
  job: SubmittedJob,
  run?: SubmittedRun,
  seen: ReadonlySet<string> = new Set(),
): Promise<FollowedJob | undefined> {
  return (await look(queue, job, run, seen)).end;
}

function gone(job: SubmittedJob): FollowedJob {
  return { job, status: 'failed', reason: 'the job is gone from the queue (removed)', attempts: 0 };
}

/** The live progress of an active job when it differs from the last one passed on. */
async function newProgress(
  queue: InvocationQueue,
  job: SubmittedJob,
  last: Map<string, string>,
): Promise<InvocationJobProgress | undefined> {
  const found: Job | undefined = await queue.getJob(job.jobId);
  const progress = found?.progress as unknown;
  if (!isLiveProgress(progress)) return undefined;
  const key = `${progress.worker} ${progress.elapsedMs} ${progress.pages} ${progress.recordsWritten}`;
  if (last.get(job.jobId) === key) return undefined;
  last.set(job.jobId, key);
  return progress;
}

export async function followRun(
  queue: InvocationQueue,
  run: SubmittedRun,
  options: FollowOptions = {},
): Promise<FollowedJob[]> {
  const ended = new Map<string, FollowedJob>();
  const lastProgress = new Map<string, string>();
  const pollMs = options.pollMs ?? 250;
  const progressMs = options.progressMs ?? 1000;
  let progressReadAt = Number.NEGATIVE_INFINITY;
  let jobs = run.jobs;
  while (!options.signal?.aborted) {
    const readProgress = options.onProgress !== undefined && performance.now() - progressReadAt >= progressMs;
    if (readProgress) progressReadAt = performance.now();
    for (const job of jobs) {
      if (ended.has(job.jobId)) continue;
      const { state, end } = await look(queue, job, run);
      if (end) {
        ended.set(job.jobId, end);
        options.onFinished?.(end);
      } else if (state === 'active' && readProgress && options.onProgress) {
        const progress = await newProgress(queue, job, lastProgress);
        if (progress) options.onProgress(job, progress);
      }
    }
    // Listed after the ends were seen: children of a parent seen ended are all in this list.
    jobs = await runJobs(queue, run);
    if (jobs.every((job) => ended.has(job.jobId))) break;
    await sleep(pollMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => {});
  }
  return jobs.map((job) => ended.get(job.jobId)).filter((j): j is FollowedJob => j !== undefined);
}
