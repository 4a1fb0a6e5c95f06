/**
 * Following a submitted run until every job has ended: completed (the worker's report), failed
 * after its last attempt (the report of that attempt, kept in the job's progress), or gone; a row
 * waiting in `depends_on` ends skipped when a dependency did not succeed. The DAG children the
 * workers add are listed again on every look (run-state.ts) and followed as well: the run has
 * ended once every job listed after the last parent ended has ended too (a parent's job ends only
 * after its children were listed). Polls the jobs' states, so a restart of the submitter or a
 * missed event loses nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { predecessorProblem, type RowStatus } from '@faucet/pipeline';
import type { Job } from 'bullmq';
import { isCancelled } from './cancel.js';
import type { InvocationQueue } from './queue.js';
import { type RowEnd, rowEnds, runJobs } from './run-state.js';
import type { FollowedJob, InvocationJobResult, SubmittedJob, SubmittedRun } from './types.js';

export interface FollowOptions {
  /** Stop following (the jobs go on); the result then lacks the jobs still running. */
  signal?: AbortSignal;
  /** Between two looks at the pending jobs (default 250 ms). */
  pollMs?: number;
  onFinished?(job: FollowedJob): void;
}

function isResult(value: unknown): value is InvocationJobResult {
  return typeof value === 'object' && value !== null && 'status' in value && 'stateKey' in value;
}

/** How a row ended as recorded by its workers, or derived: skipped when a row it waits for did not succeed. */
function rowEnd(
  row: string,
  run: SubmittedRun,
  ends: Map<string, RowEnd>,
  seen = new Set<string>(),
): RowEnd | undefined {
  const recorded = ends.get(row);
  if (recorded) return recorded;
  const job = run.jobs.find((j) => j.row === row);
  if (!job?.waitsFor || seen.has(row)) return undefined;
  seen.add(row);
  const before: Array<{ id: string; status: RowStatus | undefined }> = job.waitsFor.map((id) => ({
    id,
    status: rowEnd(id, run, ends, seen)?.status,
  }));
  const blocked = before.find((b) => b.status !== undefined && b.status !== 'ok');
  if (!blocked) return undefined;
  const reason = predecessorProblem({}, [blocked as { id: string; status: RowStatus }]);
  return { status: 'skipped', ...(reason ? { reason } : {}) };
}

/**
 * The end of a row waiting in `depends_on` whose job was not added (yet): skipped as its workers
 * recorded (or as follows from its dependencies' ends), or undefined while it waits.
 */
async function deferredEnd(queue: InvocationQueue, job: SubmittedJob, run: SubmittedRun) {
  const end = rowEnd(job.row, run, await rowEnds(queue, run.runId));
  if (end?.status !== 'skipped') return undefined;
  return { job, status: 'skipped', reason: end.reason ?? 'skipped', attempts: 0 } satisfies FollowedJob;
}

/** The end of one job, or undefined while it is still waiting, delayed or running. */
export async function endOf(
  queue: InvocationQueue,
  job: SubmittedJob,
  run?: SubmittedRun,
): Promise<FollowedJob | undefined> {
  // The state first, then the job: a job read before it finished lacks its return value.
  const state = await queue.getJobState(job.jobId);
  if (state === 'unknown') {
    if (job.deferred && run) {
      const skipped = await deferredEnd(queue, job, run);
      if (skipped) return skipped;
    }
    if (await isCancelled(queue, job.jobId))
      return { job, status: 'cancelled', reason: 'cancelled before it started', attempts: 0 };
    if (job.deferred) return undefined;
    return gone(job);
  }
  if (state !== 'completed' && state !== 'failed') return undefined;
  const found: Job | undefined = await queue.getJob(job.jobId);
  if (!found) return gone(job);
  const attempts = found.attemptsMade;
  if (state === 'completed') {
    const outcome = found.returnvalue as unknown;
    if (!isResult(outcome)) return { job, status: 'ok', attempts };
    return { job, outcome, status: outcome.status, attempts };
  }
  if (state === 'failed') {
    const progress = found.progress as unknown;
    const outcome = isResult(progress) ? progress : undefined;
    return {
      job,
      status: 'failed',
      ...(outcome ? { outcome } : {}),
      reason: found.failedReason || 'failed',
      attempts,
    };
  }
  return undefined;
}

function gone(job: SubmittedJob): FollowedJob {
  return { job, status: 'failed', reason: 'the job is gone from the queue (removed)', attempts: 0 };
}

export async function followRun(
  queue: InvocationQueue,
  run: SubmittedRun,
  options: FollowOptions = {},
): Promise<FollowedJob[]> {
  const ended = new Map<string, FollowedJob>();
  const pollMs = options.pollMs ?? 250;
  let jobs = run.jobs;
  while (!options.signal?.aborted) {
    for (const job of jobs) {
      if (ended.has(job.jobId)) continue;
      const end = await endOf(queue, job, run);
      if (!end) continue;
      ended.set(job.jobId, end);
      options.onFinished?.(end);
    }
    // Listed after the ends were seen: children of a parent seen ended are all in this list.
    jobs = await runJobs(queue, run);
    if (jobs.every((job) => ended.has(job.jobId))) break;
    await sleep(pollMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => {});
  }
  return jobs.map((job) => ended.get(job.jobId)).filter((j): j is FollowedJob => j !== undefined);
}
