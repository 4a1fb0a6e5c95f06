/** Where each job of a submitted run stands now, DAG children included (for `faucet runs list|show`). */
import { endOf } from './follow.js';
import type { InvocationQueue } from './queue.js';
import { runJobs } from './run-state.js';
import type { FollowedJob, SubmittedJob, SubmittedRun } from './types.js';

export interface JobStatus {
  job: SubmittedJob;
  /**
   * `waiting`, `delayed`, `active` while not ended (`waiting-dependencies`: a row whose
   * depends_on has not ended yet);
   * `ok`, `failed`, `cancelled`, `skipped` once ended.
   */
  state: string;
  ended?: FollowedJob;
}

export async function runStatus(queue: InvocationQueue, run: SubmittedRun): Promise<JobStatus[]> {
  const out: JobStatus[] = [];
  for (const job of await runJobs(queue, run)) {
    const ended = await endOf(queue, job, run);
    if (ended) out.push({ job, state: ended.status, ended });
    else {
      const state = await queue.getJobState(job.jobId);
      out.push({ job, state: job.deferred && state === 'unknown' ? 'waiting-dependencies' : state });
    }
  }
  return out;
}

/** `{ok: 3, active: 1}`: how many jobs are in each state. */
export function countStates(statuses: readonly JobStatus[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { state } of statuses) counts[state] = (counts[state] ?? 0) + 1;
  return counts;
}
