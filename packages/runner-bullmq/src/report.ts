/**
 * A followed run in the engine's own shapes, so the CLI shows it as it shows a local run: a job's
 * live progress as a ProgressEvent, an ended job as an InvocationOutcome, the whole run as the
 * ExecutionReport (same summary, same exit code). A job the submitter stopped following counts as
 * cancelled (it may still finish).
 */
import { FaucetError, type PipelineResult, type ProgressEvent } from '@faucet/core';
import type { ExecutionReport, InvocationOutcome, RowOutcome } from '@faucet/pipeline';
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
    status: followed.status,
    limitReached: outcome?.limitReached ?? false,
    durationMs: outcome?.durationMs ?? 0,
    ...(outcome?.result ? { result: outcome.result as unknown as PipelineResult } : {}),
    ...(error
      ? { error: new FaucetError(error.message, { code: error.code, retryable: error.retryable }) }
      : {}),
  };
}

export function executionReport(
  run: SubmittedRun,
  followed: FollowedJob[],
  durationMs: number,
): ExecutionReport {
  const byJob = new Map(followed.map((f) => [f.job.jobId, f]));
  const invocations = run.jobs.map((job) =>
    invocationOutcome(
      byJob.get(job.jobId) ?? { job, status: 'cancelled', reason: 'not followed to its end', attempts: 0 },
    ),
  );
  const rows: RowOutcome[] = invocations.map((inv) => ({
    id: inv.row,
    status: inv.status,
    invocations: 1,
    ...(inv.error ? { error: inv.error } : {}),
  }));
  const failed = invocations.some((i) => i.status === 'failed');
  const cancelled = invocations.some((i) => i.status === 'cancelled');
  return { status: failed ? 'failed' : cancelled ? 'cancelled' : 'ok', rows, invocations, durationMs };
}
