/**
 * A followed run in the engine's own shapes, so the CLI shows it as it shows a local run: a job's
 * live progress as a ProgressEvent, an ended job as an InvocationOutcome, the whole run as the
 * ExecutionReport (same summary, same exit code). A job the submitter stopped following counts as
 * cancelled (it may still finish). A row skipped for its `depends_on` has no invocation; a DAG child
 * row has one per child job followed.
 */
import { FaucetError, type PipelineResult, type ProgressEvent } from '@faucet/core';
import type { ExecutionReport, InvocationOutcome, RowOutcome, RowStatus } from '@faucet/pipeline';
import type { FollowedJob, InvocationJobProgress, SubmittedRun } from './types.js';

/** A job's live progress as the engine's progress event of a local run. */
export function progressEvent(run: SubmittedRun, progress: InvocationJobProgress): ProgressEvent {
  return {
    type: progress.type,
    pipeline: run.pipeline,
    row: progress.row,
    runId: run.runId,
    pages: progress.pages,
    recordsRead: progress.recordsRead,
    recordsWritten: progress.recordsWritten,
    recordsDeadLettered: progress.recordsDeadLettered,
    checkpoints: progress.checkpoints,
    ratePerSec: progress.ratePerSec,
    elapsedMs: progress.elapsedMs,
    ...(progress.lastCheckpointAt ? { lastCheckpointAt: progress.lastCheckpointAt } : {}),
  };
}

/** An ended job as the outcome of a local invocation. */
export function invocationOutcome(followed: FollowedJob): InvocationOutcome {
  const { job, outcome } = followed;
  const error =
    outcome?.error ??
    (followed.status === 'failed'
      ? { code: 'JOB_FAILED', message: followed.reason ?? 'failed', retryable: false }
      : undefined);
  return {
    row: job.row,
    stateKey: job.stateKey,
    ...(job.parentKey === undefined ? {} : { parentKey: job.parentKey }),
    status: followed.status === 'skipped' ? 'cancelled' : followed.status,
    limitReached: outcome?.limitReached ?? false,
    durationMs: outcome?.durationMs ?? 0,
    ...(outcome?.result ? { result: outcome.result as unknown as PipelineResult } : {}),
    ...(error
      ? { error: new FaucetError(error.message, { code: error.code, retryable: error.retryable }) }
      : {}),
  };
}

/** A DAG child row from its invocations, as a local run summarises a child level. */
function childRowOf(
  id: string,
  parent: RowOutcome | undefined,
  invocations: InvocationOutcome[],
): RowOutcome {
  if (invocations.length === 0) {
    if (parent?.status !== 'ok') {
      const what = parent?.status === 'skipped' ? 'was skipped' : (parent?.status ?? 'did not run');
      return { id, status: 'skipped', reason: `parent "${parent?.id}" ${what}`, invocations: 0 };
    }
    return { id, status: 'ok', reason: `parent "${parent.id}" wrote no records`, invocations: 0 };
  }
  const failed = invocations.filter((i) => i.status === 'failed');
  const status: RowStatus =
    failed.length > 0 ? 'failed' : invocations.some((i) => i.status === 'cancelled') ? 'cancelled' : 'ok';
  const row: RowOutcome = { id, status, invocations: invocations.length };
  if (failed.length > 0) {
    row.reason = `${failed.length} of ${invocations.length} invocations failed`;
    if (failed[0]?.error) row.error = failed[0].error;
  }
  return row;
}

export function executionReport(
  run: SubmittedRun,
  followed: FollowedJob[],
  durationMs: number,
): ExecutionReport {
  const byJob = new Map(followed.map((f) => [f.job.jobId, f]));
  const roots = run.jobs.map(
    (job): FollowedJob =>
      byJob.get(job.jobId) ?? { job, status: 'cancelled', reason: 'not followed to its end', attempts: 0 },
  );
  const rows = new Map<string, RowOutcome>();
  const invocations: InvocationOutcome[] = [];
  for (const end of roots) {
    if (end.status === 'skipped') {
      rows.set(end.job.row, { id: end.job.row, status: 'skipped', reason: end.reason ?? '', invocations: 0 });
      continue;
    }
    const inv = invocationOutcome(end);
    invocations.push(inv);
    rows.set(inv.row, {
      id: inv.row,
      status: inv.status,
      invocations: 1,
      ...(inv.status === 'failed' ? { reason: '1 of 1 invocations failed' } : {}),
      ...(inv.error ? { error: inv.error } : {}),
    });
  }
  const rootIds = new Set(run.jobs.map((j) => j.jobId));
  const children = followed.filter((f) => !rootIds.has(f.job.jobId)).map(invocationOutcome);
  invocations.push(...children);
  for (const { id, parent } of run.childRows ?? []) {
    rows.set(
      id,
      childRowOf(
        id,
        rows.get(parent),
        children.filter((c) => c.row === id),
      ),
    );
  }
  const all = [...rows.values()];
  const failed = all.some((r) => r.status === 'failed');
  const cancelled = all.some((r) => r.status === 'cancelled');
  return { status: failed ? 'failed' : cancelled ? 'cancelled' : 'ok', rows: all, invocations, durationMs };
}
