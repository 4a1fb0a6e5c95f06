/**
 * Cancelling a submitted run: jobs not started are removed; a job running on a worker is told
 * through a cancel mark beside the queue (`{prefix}:{queue}:faucet-cancel:{jobId}`), which the
 * worker looks at about once a second — the invocation then finishes its page, stores the
 * checkpoint and ends cancelled. A fresh job for the same state key clears the mark. The run is
 * marked cancelled first, so no worker adds a job for it afterwards: rows waiting in `depends_on`
 * end skipped, and DAG children of records written from now on stay owed to the next run.
 */
import type { InvocationQueue } from './queue.js';
import { markRunCancelled, runJobs } from './run-state.js';
import { sideKey } from './runs.js';
import type { SubmittedRun } from './types.js';

const MARK_SECONDS = 7 * 24 * 3600;
const NOT_STARTED = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

export const cancelKey = (queue: InvocationQueue, jobId: string) => sideKey(queue, 'faucet-cancel', jobId);

export interface CancelledRun {
  /** Jobs removed before they started. */
  removed: string[];
  /** Jobs running now, told to stop after their current page. */
  signalled: string[];
  /** Jobs that had ended already. */
  ended: string[];
}

export async function cancelRun(queue: InvocationQueue, run: SubmittedRun): Promise<CancelledRun> {
  const client = await queue.client;
  const out: CancelledRun = { removed: [], signalled: [], ended: [] };
  await markRunCancelled(queue, run.runId);
  for (const { jobId } of await runJobs(queue, run)) {
    await client.set(cancelKey(queue, jobId), run.runId, { EX: MARK_SECONDS });
    const state = await queue.getJobState(jobId);
    if (state === 'unknown') {
      // a row still waiting for its depends_on: it will not be added now
      out.removed.push(jobId);
    } else if (NOT_STARTED.has(state)) {
      await queue.remove(jobId);
      out.removed.push(jobId);
    } else if (state === 'active') {
      out.signalled.push(jobId);
    } else {
      out.ended.push(jobId);
    }
  }
  return out;
}

/** Whether a job was cancelled (a mark exists). */
export async function isCancelled(queue: InvocationQueue, jobId: string): Promise<boolean> {
  const client = await queue.client;
  return (await client.get(cancelKey(queue, jobId))) !== null;
}

/** A fresh job for this id starts uncancelled. */
export async function clearCancel(queue: InvocationQueue, jobId: string): Promise<void> {
  const client = await queue.client;
  await client.del(cancelKey(queue, jobId));
}
