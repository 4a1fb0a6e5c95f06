/**
 * Adding one invocation's job, at most once per state key and run. The job id is derived from the
 * state key (job-ids.ts), so:
 * - a job of this same run already there (waiting, running or ended) is kept: a parent page read
 *   again after its worker died enqueues its children again, and this adds nothing;
 * - a live job of another run (waiting, delayed, running) is followed rather than added again;
 * - an ended job of another run is replaced by a fresh one, which resumes from the stored bookmark.
 * Ended jobs are kept (`removeOnComplete: false`, `removeOnFail: false`) until the next run of the
 * same state key replaces them, so the same-run check holds for as long as a run lasts; there is
 * one kept job per state key, never more.
 */
import { clearCancel } from './cancel.js';
import { jobIdFor } from './job-ids.js';
import type { InvocationQueue } from './queue.js';
import type { InvocationJobData } from './types.js';

const FINISHED = new Set(['completed', 'failed']);

export interface AddedJob {
  jobId: string;
  added: boolean;
  /** The run of the job that was there (when not added). */
  ownerRun?: string;
  /** The job that was there, when it belongs to this run (to tell a re-read page from a duplicate key). */
  existing?: InvocationJobData;
}

export async function addJobOnce(
  queue: InvocationQueue,
  data: InvocationJobData,
  attempts: number,
): Promise<AddedJob> {
  const jobId = jobIdFor(data.stateKey);
  const existing = await queue.getJob(jobId);
  if (existing) {
    if (existing.data.runId === data.runId) {
      return { jobId, added: false, ownerRun: data.runId, existing: existing.data };
    }
    const state = await existing.getState();
    if (!FINISHED.has(state)) return { jobId, added: false, ownerRun: existing.data.runId };
    await existing.remove();
  }
  await clearCancel(queue, jobId);
  await queue.add(data.row, data, {
    jobId,
    attempts,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: false,
    removeOnFail: false,
  });
  return { jobId, added: true };
}

/** Remove an ended job of an earlier run, so nobody takes its end for this run's (true when none is left). */
export async function clearEnded(queue: InvocationQueue, jobId: string, runId: string): Promise<AddedJob> {
  const existing = await queue.getJob(jobId);
  if (!existing || existing.data.runId === runId) return { jobId, added: false };
  const state = await existing.getState();
  if (!FINISHED.has(state)) return { jobId, added: false, ownerRun: existing.data.runId };
  await existing.remove();
  return { jobId, added: false };
}
