/** Where each job of a submitted run stands now (for `faucet runs list|show`). */
import { endOf } from './follow.js';
import type { InvocationQueue } from './queue.js';
import type { FollowedJob, SubmittedJob, SubmittedRun } from './types.js';

export interface JobStatus {
  job: SubmittedJob;
  /** `waiting`, `delayed`, `active` while not ended; `ok`, `failed`, `cancelled` once ended. */
  state: string;
  ended?: FollowedJob;
}

export async function runStatus(queue: InvocationQueue, run: SubmittedRun): Promise<JobStatus[]> {
  const out: JobStatus[] = [];
  for (const job of run.jobs) {
    const ended = await endOf(queue, job);
    if (ended) out.push({ job, state: ended.status, ended });
    else out.push({ job, state: await queue.getJobState(job.jobId) });
  }
  return out;
}

/** `{ok: 3, active: 1}`: how many jobs are in each state. */
export function countStates(statuses: readonly JobStatus[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { state } of statuses) counts[state] = (counts[state] ?? 0) + 1;
  return counts;
}
