/**
 * A followed run as the ExecutionReport a local run gives, so the CLI prints the same summary and
 * exit code. A job the submitter stopped following counts as cancelled (it may still finish).
 */
import { FaucetError, type PipelineResult } from '@faucet/core';
import type { ExecutionReport, InvocationOutcome, RowOutcome } from '@faucet/pipeline';
import type { FollowedJob, SubmittedRun } from './types.js';

function invocationOf(followed: FollowedJob): InvocationOutcome {
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
    invocationOf(
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
