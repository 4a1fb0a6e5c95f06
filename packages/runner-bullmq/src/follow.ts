/**
 * Following a submitted run until every job has ended: completed (the worker's report), failed
 * after its last attempt (the report of that attempt, kept in the job's progress), or gone.
 * Polls the jobs' states, so a restart of the submitter or a missed event loses nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from 'bullmq';
import { isCancelled } from './cancel.js';
import type { InvocationQueue } from './queue.js';
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

/** The end of one job, or undefined while it is still waiting, delayed or running. */
export async function endOf(queue: InvocationQueue, job: SubmittedJob): Promise<FollowedJob | undefined> {
  // The state first, then the job: a job read before it finished lacks its return value.
  const state = await queue.getJobState(job.jobId);
  if (state === 'unknown') {
    if (await isCancelled(queue, job.jobId))
      return { job, status: 'cancelled', reason: 'cancelled before it started', attempts: 0 };
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
  while (ended.size < run.jobs.length && !options.signal?.aborted) {
    for (const job of run.jobs) {
      if (ended.has(job.jobId)) continue;
      const end = await endOf(queue, job);
      if (!end) continue;
      ended.set(job.jobId, end);
      options.onFinished?.(end);
    }
    if (ended.size < run.jobs.length) {
      await sleep(pollMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => {});
    }
  }
  return run.jobs.map((job) => ended.get(job.jobId)).filter((j): j is FollowedJob => j !== undefined);
}
