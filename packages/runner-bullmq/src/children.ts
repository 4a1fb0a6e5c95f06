/**
 * A DAG parent on a worker: the child invocations for the records its sink wrote are enqueued on
 * every sink flush, which the engine does before it stores a checkpoint (`beforeCheckpoint`). So a
 * stored bookmark never passes a record whose child job is not in Redis yet; a worker that dies in
 * between has its page read again, and the child jobs it enqueues again are the same ids in the
 * same run, which adds nothing (add-job.ts). Each child is first recorded as owed (owed.ts), then
 * listed under the run (run-state.ts) for the submitter and `faucet runs show`.
 */
import { ConfigError, type FaucetRecord, type JsonObject } from '@faucet/core';
import { childInvocations, type LoadedPipeline, type LoadedRow } from '@faucet/pipeline';
import { addJobOnce } from './add-job.js';
import { jobIdFor } from './job-ids.js';
import { oweChildren } from './owed.js';
import type { InvocationQueue } from './queue.js';
import { isRunCancelled, registerChildren } from './run-state.js';
import type { InvocationJobData, SubmittedJob } from './types.js';

/** The child jobs of one child row for these parent records; throws ConfigError for unusable keys. */
function childJobs(
  pipeline: LoadedPipeline,
  child: LoadedRow,
  parentData: InvocationJobData,
  written: readonly FaucetRecord[],
): InvocationJobData[] {
  const { targets, problems } = childInvocations(pipeline, child, written);
  if (problems.length > 0) {
    throw new ConfigError(
      problems.map((message) => ({ path: '', message })),
      { context: `row "${child.id}" cannot run for the records "${parentData.row}" wrote` },
    );
  }
  return targets.map((target) => ({
    runId: parentData.runId,
    file: parentData.file,
    fileHash: parentData.fileHash,
    pipeline: parentData.pipeline,
    row: child.id,
    stateKey: target.stateKey,
    parent: target.parent as JsonObject,
    parentKey: target.parentKey as string,
    parentJob: jobIdFor(parentData.stateKey),
  }));
}

async function addChildren(
  queue: InvocationQueue,
  child: LoadedRow,
  jobs: readonly InvocationJobData[],
  attempts: number,
): Promise<SubmittedJob[]> {
  const listed: SubmittedJob[] = [];
  for (const data of jobs) {
    const added = await addJobOnce(queue, data, attempts);
    if (added.existing && added.existing.parentJob !== data.parentJob) {
      throw new ConfigError(
        [
          {
            path: '',
            message:
              `duplicate state key "${data.stateKey}": the parent invocations ${added.existing.parentJob} and ` +
              `${data.parentJob} both wrote a record with ${child.parentKey} "${data.parentKey}"; each parent ` +
              `record must have a distinct "${child.parentKey}" (set parent_key to a unique field)`,
          },
        ],
        { context: `row "${child.id}" cannot run` },
      );
    }
    listed.push({
      row: data.row,
      stateKey: data.stateKey,
      jobId: added.jobId,
      added: added.added,
      ...(added.ownerRun && added.ownerRun !== data.runId ? { ownerRun: added.ownerRun } : {}),
      ...(data.parentKey === undefined ? {} : { parentKey: data.parentKey }),
    });
  }
  return listed;
}

/** What a parent job hands its sink flushes: enqueue the children of what was written. */
export function childEnqueuer(
  queue: InvocationQueue,
  pipeline: LoadedPipeline,
  parentData: InvocationJobData,
): (written: FaucetRecord[]) => Promise<void> {
  const parent = pipeline.rowsById.get(parentData.row);
  const children = (parent?.children ?? [])
    .map((id) => pipeline.rowsById.get(id))
    .filter((row): row is LoadedRow => row !== undefined);
  const attempts = pipeline.execution.retries + 1;
  return async (written) => {
    const cancelled = await isRunCancelled(queue, parentData.runId);
    for (const child of children) {
      const jobs = childJobs(pipeline, child, parentData, written);
      await oweChildren(
        queue,
        child.stateKey,
        jobs.map((data) => ({ jobId: jobIdFor(data.stateKey), data })),
      );
      // A cancelled run adds no job: the children stay owed to the next run.
      if (cancelled) continue;
      await registerChildren(
        queue,
        parentData.runId,
        child.id,
        await addChildren(queue, child, jobs, attempts),
      );
    }
  };
}
