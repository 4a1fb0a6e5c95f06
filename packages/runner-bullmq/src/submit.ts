/**
 * Submitting a loaded pipeline file: one job per row without a parent, its id derived from the
 * state key (add-job.ts). A row with `depends_on` is not added now: the worker that ends its last
 * dependency adds it (dependents.ts). DAG children are added by the workers running their parents
 * (children.ts); the children an earlier run still owes are added now (owed.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type LoadedPipeline, type LoadedRow, rootInvocations } from '@faucet/pipeline';
import { type AddedJob, addJobOnce, clearEnded } from './add-job.js';
import { QueueRunConflictError } from './errors.js';
import { jobIdFor } from './job-ids.js';
import { owedChildren } from './owed.js';
import { type InvocationQueue, queueName } from './queue.js';
import { registerChildren } from './run-state.js';
import { saveRun } from './runs.js';
import type { InvocationJobData, QueueTarget, SubmittedJob, SubmittedRun } from './types.js';

export function fileHash(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function listed(data: InvocationJobData, added: AddedJob, extra: Partial<SubmittedJob> = {}): SubmittedJob {
  return {
    row: data.row,
    stateKey: data.stateKey,
    jobId: added.jobId,
    added: added.added,
    ...(added.ownerRun && added.ownerRun !== data.runId ? { ownerRun: added.ownerRun } : {}),
    ...(data.parentKey === undefined ? {} : { parentKey: data.parentKey }),
    ...extra,
  };
}

/**
 * Rows in a `depends_on` relation (waiting, or waited for) must start in this run: a live job of an
 * earlier run under their id would end under that run and never tell this one. An ended job of an
 * earlier run is removed now, so nobody takes that end for this run's.
 */
async function claimOrderedRow(queue: InvocationQueue, data: InvocationJobData): Promise<void> {
  const found = await clearEnded(queue, jobIdFor(data.stateKey), data.runId);
  if (found.ownerRun) {
    throw new QueueRunConflictError(
      `row "${data.row}" is ordered by depends_on, but a job of run ${found.ownerRun} for it is still waiting ` +
        'or running; wait for that run to end (faucet runs show) or cancel it (faucet runs cancel) first',
    );
  }
}

/** Add a job for every child an earlier run still owes (their records were checkpointed past). */
async function addOwed(
  queue: InvocationQueue,
  row: LoadedRow,
  base: Pick<InvocationJobData, 'runId' | 'file' | 'fileHash'>,
  attempts: number,
): Promise<void> {
  const jobs: SubmittedJob[] = [];
  for (const owed of (await owedChildren(queue, row.stateKey)).values()) {
    const data: InvocationJobData = { ...owed, ...base };
    jobs.push(listed(data, await addJobOnce(queue, data, attempts)));
  }
  await registerChildren(queue, base.runId, row.id, jobs);
}

export async function submitRun(
  pipeline: LoadedPipeline,
  queue: InvocationQueue,
  target: QueueTarget,
): Promise<SubmittedRun> {
  const runId = randomUUID();
  const base = { runId, file: pipeline.file, fileHash: fileHash(pipeline.file) };
  const attempts = pipeline.execution.retries + 1;
  const childRows = pipeline.order
    .map((id) => pipeline.rowsById.get(id))
    .filter((row): row is LoadedRow => row?.parent !== undefined);
  const run: SubmittedRun = {
    runId,
    submittedAt: new Date().toISOString(),
    pipeline: pipeline.name,
    file: pipeline.file,
    queueName: queueName(target),
    jobs: [],
    ...(childRows.length > 0
      ? { childRows: childRows.map((row) => ({ id: row.id, parent: row.parent as string })) }
      : {}),
  };
  const invocations = rootInvocations(pipeline);
  const waitedFor = new Set(pipeline.rows.flatMap((row) => row.dependsOn));
  const dataOf = (row: LoadedRow, stateKey: string): InvocationJobData => ({
    ...base,
    pipeline: pipeline.name,
    row: row.id,
    stateKey,
  });
  // Checked before any job is added: a conflict leaves nothing submitted.
  for (const { row, stateKey } of invocations) {
    if (row.dependsOn.length > 0 || waitedFor.has(row.id))
      await claimOrderedRow(queue, dataOf(row, stateKey));
  }
  for (const { row, stateKey } of invocations) {
    const data = dataOf(row, stateKey);
    if (row.dependsOn.length > 0) {
      run.jobs.push(
        listed(
          data,
          { jobId: jobIdFor(stateKey), added: false },
          { deferred: true, waitsFor: row.dependsOn },
        ),
      );
    } else {
      run.jobs.push(listed(data, await addJobOnce(queue, data, attempts)));
    }
  }
  for (const row of childRows) await addOwed(queue, row, base, attempts);
  await saveRun(queue, run);
  return run;
}
