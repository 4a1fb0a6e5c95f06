/**
 * Running a loaded pipeline: every row once its parent and `depends_on` rows have succeeded, a DAG
 * child once per record its parent's sink wrote, at most `max_concurrent` invocations at a time
 * (one limit shared by all rows). `on_error: continue` skips what depends on a failed row;
 * `on_error: stop` cancels the rest cooperatively (each running invocation finishes and checkpoints
 * its page).
 *
 * Memory: a parent row keeps, for every record its sink wrote, only the fields its children read
 * (their parent_key and ${parent.…} paths) until those children have run. A parent that writes N
 * records therefore holds N small projections — about 100 bytes each for an `id` — so fan out over
 * millions of parent records needs memory to match.
 */
import type { FaucetError, Logger, ProgressEvent } from '@faucet/core';
import { predecessors } from './config/dag.js';
import type { LoadedPipeline, LoadedRow } from './config/load.js';
import { runChildRow } from './runtime/child-rows.js';
import { blockedReason, createExecution, type Execution, runRootRow } from './runtime/execution.js';
import type { InvocationMode, InvocationOutcome } from './runtime/invocation.js';

export type RowStatus = 'ok' | 'failed' | 'cancelled' | 'skipped';

export interface RowOutcome {
  id: string;
  status: RowStatus;
  /** Why a row was skipped or failed before running anything. */
  reason?: string;
  error?: FaucetError;
  invocations: number;
}

export interface ExecutionReport {
  status: 'ok' | 'failed' | 'cancelled';
  rows: RowOutcome[];
  invocations: InvocationOutcome[];
  durationMs: number;
}

export interface InvocationInfo {
  row: string;
  stateKey: string;
  parentKey?: string;
}

/** What a progress display hears about. Every call is guarded: a failing observer never fails a run. */
export interface ExecutionObserver {
  rowStarted?(row: string, invocations: number): void;
  invocationStarted?(info: InvocationInfo): void;
  progress?(info: InvocationInfo, event: ProgressEvent): void;
  invocationFinished?(outcome: InvocationOutcome): void;
  rowFinished?(outcome: RowOutcome): void;
}

export interface ExecuteOptions {
  mode?: Exclude<InvocationMode, 'preview'>;
  limit?: number;
  /** Cancels the whole run (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  logger: Logger;
  observer?: ExecutionObserver;
}

/** A row once its parent and dependencies are done: skipped, a child level, or a root invocation. */
async function runRow(exec: Execution, row: LoadedRow, rowOutcomes: Map<string, Promise<RowOutcome>>) {
  const before = await Promise.all(predecessors(row).map((id) => rowOutcomes.get(id) as Promise<RowOutcome>));
  const blocked = blockedReason(exec, row, before);
  if (row.parent !== undefined) {
    if (row.children.length > 0 && !blocked) exec.captured.set(row.id, []);
    return runChildRow(exec, row, row.parent, blocked);
  }
  if (blocked) return { id: row.id, status: 'skipped' as const, reason: blocked, invocations: 0 };
  if (row.children.length > 0) exec.captured.set(row.id, []);
  return runRootRow(exec, row);
}

export async function executePipeline(
  pipeline: LoadedPipeline,
  options: ExecuteOptions,
): Promise<ExecutionReport> {
  const exec = createExecution(pipeline, options);
  const pendingChildren = new Map<string, number>();
  for (const row of pipeline.rows) pendingChildren.set(row.id, row.children.length);
  const rowOutcomes = new Map<string, Promise<RowOutcome>>();
  try {
    for (const id of pipeline.order) {
      const row = pipeline.rowsById.get(id);
      if (!row) continue;
      const outcome = runRow(exec, row, rowOutcomes).then((o) => {
        exec.observer.rowFinished(o);
        if (row.parent !== undefined) {
          // The parent's captured records are dropped once every child row is done with them.
          const left = (pendingChildren.get(row.parent) ?? 1) - 1;
          pendingChildren.set(row.parent, left);
          if (left <= 0) exec.captured.delete(row.parent);
        }
        return o;
      });
      rowOutcomes.set(id, outcome);
    }
    const rows = await Promise.all([...rowOutcomes.values()]);
    const anyFailed = rows.some((r) => r.status === 'failed');
    const cancelled = options.signal?.aborted === true || rows.some((r) => r.status === 'cancelled');
    return {
      status: anyFailed ? 'failed' : cancelled ? 'cancelled' : 'ok',
      rows,
      invocations: exec.invocations,
      durationMs: performance.now() - exec.started,
    };
  } finally {
    await exec.stateStores.closeAll();
  }
}
