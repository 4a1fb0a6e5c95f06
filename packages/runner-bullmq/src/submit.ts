/**
 * Submitting a loaded pipeline file: one job per invocation, its id derived from the state key.
 * A job already waiting, delayed or running for a state key is followed rather than added again
 * (resubmitting never duplicates work); a finished one is replaced by a fresh job for this run.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type LoadedPipeline, rootInvocations } from '@faucet/pipeline';
import { clearCancel } from './cancel.js';
import { jobIdFor } from './job-ids.js';
import { type InvocationQueue, queueName } from './queue.js';
import { saveRun } from './runs.js';
import type { InvocationJobData, QueueTarget, SubmittedJob, SubmittedRun } from './types.js';

export function fileHash(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

const FINISHED = new Set(['completed', 'failed']);

/** Add the job for one invocation unless a live one exists; true when added. */
async function addOnce(queue: InvocationQueue, data: InvocationJobData, attempts: number): Promise<boolean> {
  const jobId = jobIdFor(data.stateKey);
  const existing = await queue.getJob(jobId);
  if (existing) {
    const state = await existing.getState();
    if (!FINISHED.has(state)) return false;
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
  return true;
}

export async function submitRun(
  pipeline: LoadedPipeline,
  queue: InvocationQueue,
  target: QueueTarget,
): Promise<SubmittedRun> {
  const runId = randomUUID();
  const hash = fileHash(pipeline.file);
  const attempts = pipeline.execution.retries + 1;
  const jobs: SubmittedJob[] = [];
  for (const invocation of rootInvocations(pipeline)) {
    const data: InvocationJobData = {
      runId,
      file: pipeline.file,
      fileHash: hash,
      pipeline: pipeline.name,
      row: invocation.row.id,
      stateKey: invocation.stateKey,
    };
    const added = await addOnce(queue, data, attempts);
    jobs.push({ row: data.row, stateKey: data.stateKey, jobId: jobIdFor(data.stateKey), added });
  }
  const run: SubmittedRun = {
    runId,
    submittedAt: new Date().toISOString(),
    pipeline: pipeline.name,
    file: pipeline.file,
    queueName: queueName(target),
    jobs,
  };
  await saveRun(queue, run);
  return run;
}
