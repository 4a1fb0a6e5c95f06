/**
 * `depends_on` on a queue: the submitter adds only the rows that wait for nothing; a row with
 * `depends_on` is added by the worker that ends its last dependency. Each worker records how its
 * row ended (run-state.ts) and then looks at the rows waiting for it: once every dependency has
 * ended, the row's job is added if all of them succeeded, or the row is recorded skipped (with the
 * reason a local run gives) and the rows waiting for it are looked at in turn. Two dependencies
 * ending at once on two workers both record first and read after, so at least one of them sees
 * both ends; when both do, the second add finds the job of this run and adds nothing. This lives
 * in the workers, not the submitter, so it holds with `--detach`.
 */
import { type LoadedPipeline, predecessorProblem } from '@faucet/pipeline';
import { addJobOnce } from './add-job.js';
import type { InvocationQueue } from './queue.js';
import { isRunCancelled, type RowEnd, recordRowEnd, rowEnds } from './run-state.js';
import type { InvocationJobData } from './types.js';

/** The job data of another row without a parent, in the same run. */
export function rowJobData(base: InvocationJobData, row: string, stateKey: string): InvocationJobData {
  return {
    runId: base.runId,
    file: base.file,
    fileHash: base.fileHash,
    pipeline: base.pipeline,
    row,
    stateKey,
  };
}

/**
 * A row without a parent ended (its job's last attempt): when rows wait for it in `depends_on`,
 * record the end, then add or skip those rows. `pipeline` is undefined when this worker could not load the file the job
 * names: the end is recorded, and the submitter derives the skips from it.
 */
export async function rowEnded(
  queue: InvocationQueue,
  pipeline: LoadedPipeline | undefined,
  base: InvocationJobData,
  row: string,
  end: RowEnd,
): Promise<void> {
  const waiting = pipeline?.rows.filter((r) => r.parent === undefined && r.dependsOn.includes(row));
  // A job's own state tells how it ended: only a skip (no job) or a row others wait for is recorded,
  // so a plain matrix pays no extra round trip per job.
  if (waiting?.length === 0 && end.status !== 'skipped') return;
  await recordRowEnd(queue, base.runId, row, end);
  if (!pipeline || !waiting) return;
  const ends = await rowEnds(queue, base.runId);
  for (const next of waiting) {
    if (ends.has(next.id)) continue;
    const before = next.dependsOn.map((id) => ({ id, status: ends.get(id)?.status }));
    if (before.some((b) => b.status === undefined)) continue;
    const blocked = predecessorProblem(next, before as Array<{ id: string; status: RowEnd['status'] }>);
    if (blocked) {
      await rowEnded(queue, pipeline, base, next.id, { status: 'skipped', reason: blocked });
    } else if (await isRunCancelled(queue, base.runId)) {
      await rowEnded(queue, pipeline, base, next.id, {
        status: 'skipped',
        reason: 'not started: the run was cancelled',
      });
    } else {
      await addJobOnce(queue, rowJobData(base, next.id, next.stateKey), pipeline.execution.retries + 1);
    }
  }
}
