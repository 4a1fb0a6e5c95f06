/**
 * A followed run as the ExecutionReport a local run gives, so the CLI prints the same summary and
 * exit code. A job the submitter stopped following counts as cancelled (it may still finish). A row
 * skipped for its `depends_on` has no invocation; a DAG child row has one per child job followed.
 */
import { FaucetError, type PipelineResult } from '@faucet/core';
import type { ExecutionReport, InvocationOutcome, RowOutcome, RowStatus } from '@faucet/pipeline';
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
    const inv = invocationOf(end);
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
  const children = followed.filter((f) => !rootIds.has(f.job.jobId)).map(invocationOf);
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
