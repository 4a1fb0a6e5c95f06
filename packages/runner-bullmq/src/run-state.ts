/**
 * What a run's workers record beside the queue, so that any process — a worker, the submitter, a
 * later `faucet runs show` — sees the same run after the submitter is gone (`--detach`):
 * - how each row without a parent ended (`faucet-run-rows:{runId}`), which decides when a row
 *   with `depends_on` is added, or skipped;
 * - the DAG child jobs the workers added, per child row (`faucet-run-children:{runId}:{row}`);
 * - that the run was cancelled (`faucet-cancel-run:{runId}`): no job is added for it any more.
 * Kept a week, as the run itself.
 */
import type { RowStatus } from '@faucet/pipeline';
import type { InvocationQueue } from './queue.js';
import { sideKey } from './runs.js';
import { readFields, setFields } from './side-hash.js';
import type { SubmittedJob, SubmittedRun } from './types.js';

const KEEP_SECONDS = 7 * 24 * 3600;

/** How a row of a run ended. */
export interface RowEnd {
  status: RowStatus;
  reason?: string;
}

const rowsKey = (queue: InvocationQueue, runId: string) => sideKey(queue, 'faucet-run-rows', runId);
const childrenKey = (queue: InvocationQueue, runId: string, row: string) =>
  sideKey(queue, 'faucet-run-children', `${runId}:${row}`);
const runCancelKey = (queue: InvocationQueue, runId: string) => sideKey(queue, 'faucet-cancel-run', runId);

export async function recordRowEnd(
  queue: InvocationQueue,
  runId: string,
  row: string,
  end: RowEnd,
): Promise<void> {
  await setFields(queue, rowsKey(queue, runId), { [row]: JSON.stringify(end) }, KEEP_SECONDS);
}

export function rowEnds(queue: InvocationQueue, runId: string): Promise<Map<string, RowEnd>> {
  return readFields<RowEnd>(queue, rowsKey(queue, runId));
}

/** Record child jobs of a run (again, after a re-read page: the fields are the same). */
export async function registerChildren(
  queue: InvocationQueue,
  runId: string,
  row: string,
  jobs: readonly SubmittedJob[],
): Promise<void> {
  const fields = Object.fromEntries(jobs.map((job) => [job.jobId, JSON.stringify(job)]));
  await setFields(queue, childrenKey(queue, runId, row), fields, KEEP_SECONDS);
}

/**
 * Every job of a run: one per row without a parent, then the DAG children its workers added so far
 * (and those of runs whose live jobs it followed), each once.
 */
export async function runJobs(queue: InvocationQueue, run: SubmittedRun): Promise<SubmittedJob[]> {
  const jobs = new Map(run.jobs.map((job) => [job.jobId, job]));
  if (!run.childRows?.length) return [...jobs.values()];
  const runIds = new Set([run.runId, ...run.jobs.flatMap((j) => (j.ownerRun ? [j.ownerRun] : []))]);
  for (const { id } of run.childRows) {
    for (const runId of runIds) {
      for (const [jobId, job] of await readFields<SubmittedJob>(queue, childrenKey(queue, runId, id))) {
        if (!jobs.has(jobId)) jobs.set(jobId, job);
      }
    }
  }
  return [...jobs.values()];
}

export async function markRunCancelled(queue: InvocationQueue, runId: string): Promise<void> {
  const client = await queue.client;
  await client.set(runCancelKey(queue, runId), '1', { EX: KEEP_SECONDS });
}

export async function isRunCancelled(queue: InvocationQueue, runId: string): Promise<boolean> {
  const client = await queue.client;
  return (await client.get(runCancelKey(queue, runId))) !== null;
}
