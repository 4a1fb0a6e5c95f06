/**
 * What one `faucet run` shares while it executes a pipeline: the observer (guarded), the cancel and
 * stop signals, the concurrency limit, the state stores, the parents' captured records, the outcomes
 * so far; and running one invocation and a root row with it.
 */
import type { FaucetRecord } from '@faucet/core';
import type { LoadedPipeline, LoadedRow } from '../config/load.js';
import type {
  ExecuteOptions,
  ExecutionObserver,
  InvocationInfo,
  RowOutcome,
  RowStatus,
} from '../executor.js';
import { type InvocationMode, type InvocationOutcome, runInvocation } from './invocation.js';
import { createSemaphore, type Semaphore } from './semaphore.js';
import { createStateStores, type StateStores } from './state-stores.js';

export interface Execution {
  readonly pipeline: LoadedPipeline;
  readonly options: ExecuteOptions;
  readonly mode: Exclude<InvocationMode, 'preview'>;
  readonly observer: Required<ExecutionObserver>;
  /** Aborted on cancellation (SIGINT/SIGTERM) or by `on_error: stop`. */
  readonly signal: AbortSignal;
  /** Aborted only by `on_error: stop`. */
  readonly stopController: AbortController;
  readonly semaphore: Semaphore;
  readonly stateStores: StateStores;
  /** What each DAG parent's sink wrote (the fields its children read), until its children ran. */
  readonly captured: Map<string, FaucetRecord[]>;
  readonly invocations: InvocationOutcome[];
  /** Warnings given once per run. */
  readonly warned: Set<string>;
  readonly started: number;
}

function guard<A extends unknown[]>(fn: ((...args: A) => void) | undefined): (...args: A) => void {
  return (...args) => {
    try {
      fn?.(...args);
    } catch {
      // progress display problems never fail a run (I5)
    }
  };
}

export function createExecution(pipeline: LoadedPipeline, options: ExecuteOptions): Execution {
  const observer = {
    rowStarted: guard(options.observer?.rowStarted?.bind(options.observer)),
    invocationStarted: guard(options.observer?.invocationStarted?.bind(options.observer)),
    progress: guard(options.observer?.progress?.bind(options.observer)),
    invocationFinished: guard(options.observer?.invocationFinished?.bind(options.observer)),
    rowFinished: guard(options.observer?.rowFinished?.bind(options.observer)),
  };
  const stopController = new AbortController();
  return {
    pipeline,
    options,
    mode: options.mode ?? 'run',
    observer,
    signal: options.signal ? AbortSignal.any([options.signal, stopController.signal]) : stopController.signal,
    stopController,
    semaphore: createSemaphore(pipeline.execution.maxConcurrent),
    stateStores: createStateStores(),
    captured: new Map(),
    invocations: [],
    warned: new Set(),
    started: performance.now(),
  };
}

/** Run one invocation of a row (a root row once, a child once per parent record) and report it. */
export async function runOne(
  exec: Execution,
  row: LoadedRow,
  stateKey: string,
  parent?: FaucetRecord,
  parentKey?: string,
): Promise<InvocationOutcome> {
  const { observer, options } = exec;
  const info: InvocationInfo = { row: row.id, stateKey, ...(parentKey === undefined ? {} : { parentKey }) };
  observer.invocationStarted(info);
  const capture = row.children.length > 0 ? exec.captured.get(row.id) : undefined;
  const outcome = await runInvocation(
    {
      pipeline: exec.pipeline,
      row,
      stateKey,
      ...(parent === undefined ? {} : { parent }),
      ...(parentKey === undefined ? {} : { parentKey }),
    },
    {
      signal: exec.signal,
      mode: exec.mode,
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      stateStores: exec.stateStores,
      logger: options.logger,
      warned: exec.warned,
      ...(capture ? { capture } : {}),
      onProgress: (event) => observer.progress(info, event),
    },
  );
  exec.invocations.push(outcome);
  observer.invocationFinished(outcome);
  if (outcome.status === 'failed' && exec.pipeline.execution.onError === 'stop') exec.stopController.abort();
  return outcome;
}

/** A row's outcome from its invocations' (some planned ones may not have started). */
export function summarise(row: LoadedRow, outcomes: InvocationOutcome[], planned: number): RowOutcome {
  const failed = outcomes.filter((o) => o.status === 'failed');
  const notRun = planned - outcomes.length;
  const status: RowStatus =
    failed.length > 0
      ? 'failed'
      : notRun > 0 || outcomes.some((o) => o.status === 'cancelled')
        ? 'cancelled'
        : 'ok';
  const out: RowOutcome = { id: row.id, status, invocations: outcomes.length };
  if (failed.length > 0) {
    out.reason = `${failed.length} of ${outcomes.length} invocations failed`;
    const first = failed[0]?.error;
    if (first) out.error = first;
  } else if (notRun > 0) {
    out.reason = `${notRun} of ${planned} invocations were not started`;
  }
  return out;
}

/**
 * Why a row cannot start because a row it waits for (its parent, its `depends_on`) did not succeed:
 * `dependency "load" failed`, `parent "users" was skipped`; undefined when every one is ok. Queued
 * runs give the same reasons.
 */
export function predecessorProblem(
  row: Pick<LoadedRow, 'parent'>,
  before: ReadonlyArray<Pick<RowOutcome, 'id' | 'status'>>,
): string | undefined {
  const blocked = before.find((o) => o.status !== 'ok');
  if (!blocked) return undefined;
  const what = blocked.status === 'skipped' ? 'was skipped' : blocked.status;
  const link = blocked.id === row.parent ? 'parent' : 'dependency';
  return `${link} "${blocked.id}" ${what}`;
}

/** Why a row cannot start (a predecessor did not succeed, or the run is being cancelled). */
export function blockedReason(
  exec: Execution,
  row: LoadedRow,
  before: readonly RowOutcome[],
): string | undefined {
  const blocked = predecessorProblem(row, before);
  if (blocked) return blocked;
  if (exec.signal.aborted) {
    return exec.stopController.signal.aborted
      ? 'not started: a row failed and on_error is stop'
      : 'not started: the run was cancelled';
  }
  return undefined;
}

export async function runRootRow(exec: Execution, row: LoadedRow): Promise<RowOutcome> {
  exec.observer.rowStarted(row.id, 1);
  await exec.semaphore.acquire();
  try {
    return summarise(row, [await runOne(exec, row, row.stateKey)], 1);
  } finally {
    exec.semaphore.release();
  }
}
