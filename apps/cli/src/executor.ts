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
import {
  ConfigError,
  type FaucetError,
  type FaucetRecord,
  type Logger,
  type ProgressEvent,
  StateError,
  toFaucetError,
} from '@faucet/core';
import { predecessors } from './config/dag.js';
import type { LoadedPipeline, LoadedRow } from './config/load.js';
import { findTemplates } from './config/template.js';
import { type InvocationMode, type InvocationOutcome, runInvocation } from './runtime/invocation.js';
import { mergeParents, type PendingParents, pendingKey, pendingParents } from './runtime/pending.js';
import { createSemaphore } from './runtime/semaphore.js';
import { createStateStores } from './runtime/state-stores.js';
import { childStateKeys } from './state-keys.js';

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

function guard<A extends unknown[]>(fn: ((...args: A) => void) | undefined): (...args: A) => void {
  return (...args) => {
    try {
      fn?.(...args);
    } catch {
      // progress display problems never fail a run (I5)
    }
  };
}

/** Problems that stop a child row before any of its invocations: missing template values. */
function templateProblems(row: LoadedRow, parents: readonly FaucetRecord[]): string[] {
  const templates = [row.connectors.source, row.connectors.sink].flatMap((c) =>
    findTemplates(c.spec.config, `${c.spec.at}.config`),
  );
  const problems: string[] = [];
  for (let i = 0; i < parents.length && problems.length < 5; i++) {
    for (const { path, template } of templates) {
      const out = template.render(parents[i] as FaucetRecord);
      if ('missing' in out) {
        problems.push(
          `${path}: parent record ${i + 1} has no "${out.missing}" for \${parent.${out.missing}}`,
        );
        break;
      }
    }
  }
  return problems;
}

export async function executePipeline(
  pipeline: LoadedPipeline,
  options: ExecuteOptions,
): Promise<ExecutionReport> {
  const started = performance.now();
  const mode = options.mode ?? 'run';
  const observer = {
    rowStarted: guard(options.observer?.rowStarted?.bind(options.observer)),
    invocationStarted: guard(options.observer?.invocationStarted?.bind(options.observer)),
    progress: guard(options.observer?.progress?.bind(options.observer)),
    invocationFinished: guard(options.observer?.invocationFinished?.bind(options.observer)),
    rowFinished: guard(options.observer?.rowFinished?.bind(options.observer)),
  };
  const stopController = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, stopController.signal])
    : stopController.signal;
  const semaphore = createSemaphore(pipeline.execution.maxConcurrent);
  const stateStores = createStateStores();
  const captured = new Map<string, FaucetRecord[]>();
  const pendingChildren = new Map<string, number>();
  for (const row of pipeline.rows) pendingChildren.set(row.id, row.children.length);
  const invocations: InvocationOutcome[] = [];
  const rowOutcomes = new Map<string, Promise<RowOutcome>>();

  const runOne = async (row: LoadedRow, stateKey: string, parent?: FaucetRecord, parentKey?: string) => {
    const info: InvocationInfo = { row: row.id, stateKey, ...(parentKey === undefined ? {} : { parentKey }) };
    observer.invocationStarted(info);
    const capture = row.children.length > 0 ? captured.get(row.id) : undefined;
    const outcome = await runInvocation(
      {
        pipeline,
        row,
        stateKey,
        ...(parent === undefined ? {} : { parent }),
        ...(parentKey === undefined ? {} : { parentKey }),
      },
      {
        signal,
        mode,
        ...(options.limit === undefined ? {} : { limit: options.limit }),
        stateStores,
        logger: options.logger,
        ...(capture ? { capture } : {}),
        onProgress: (event) => observer.progress(info, event),
      },
    );
    invocations.push(outcome);
    observer.invocationFinished(outcome);
    if (outcome.status === 'failed' && pipeline.execution.onError === 'stop') stopController.abort();
    return outcome;
  };

  const summarise = (row: LoadedRow, outcomes: InvocationOutcome[], planned: number): RowOutcome => {
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
  };

  /** Why a row cannot start (a predecessor did not succeed, or the run is being cancelled). */
  const blockedReason = (row: LoadedRow, before: readonly RowOutcome[]): string | undefined => {
    const blocked = before.find((o) => o.status !== 'ok');
    if (blocked) {
      const what = blocked.status === 'skipped' ? 'was skipped' : blocked.status;
      const link = blocked.id === row.parent ? 'parent' : 'dependency';
      return `${link} "${blocked.id}" ${what}`;
    }
    if (signal.aborted) {
      return stopController.signal.aborted
        ? 'not started: a row failed and on_error is stop'
        : 'not started: the run was cancelled';
    }
    return undefined;
  };

  const runRootRow = async (row: LoadedRow): Promise<RowOutcome> => {
    observer.rowStarted(row.id, 1);
    await semaphore.acquire();
    try {
      return summarise(row, [await runOne(row, row.stateKey)], 1);
    } finally {
      semaphore.release();
    }
  };

  /** The pending-parents list of a child row, when it has a state store. */
  const pendingOf = async (row: LoadedRow): Promise<PendingParents | undefined> => {
    const connector = row.connectors.state;
    if (!connector) return undefined;
    const store = await stateStores.open(connector, { logger: options.logger, redactor: pipeline.redactor });
    const writable = mode === 'run' && options.limit === undefined;
    return pendingParents(store, pendingKey(pipeline.name, row.id), writable);
  };

  const runChildRow = async (row: LoadedRow, parentRow: string, blocked: string | undefined) => {
    let pending: PendingParents | undefined;
    let earlier: FaucetRecord[] = [];
    try {
      pending = await pendingOf(row);
      earlier = (await pending?.load()) ?? [];
    } catch (error) {
      const failure = pipeline.redactor.redactError(
        toFaucetError(
          error,
          (m, cause) => new StateError(`cannot read the pending parents of "${row.id}": ${m}`, { cause }),
        ),
      );
      return {
        id: row.id,
        status: 'failed' as const,
        reason: failure.message,
        error: failure,
        invocations: 0,
      };
    }
    const fresh = captured.get(parentRow) ?? [];
    const parents = mergeParents(earlier, fresh, row.parentKey);
    /** Keep the parents still owed an invocation for the next run (no write when nothing changed). */
    const settle = async (outcome: RowOutcome, owed: readonly FaucetRecord[]): Promise<RowOutcome> => {
      if (!pending || (fresh.length === 0 && owed.length === earlier.length)) return outcome;
      try {
        await pending.save(owed);
      } catch (error) {
        const failure = pipeline.redactor.redactError(
          toFaucetError(
            error,
            (m, cause) => new StateError(`cannot store the pending parents of "${row.id}": ${m}`, { cause }),
          ),
        );
        return { ...outcome, status: 'failed', reason: failure.message, error: failure };
      }
      return outcome;
    };

    if (blocked) {
      return settle({ id: row.id, status: 'skipped', reason: blocked, invocations: 0 }, parents);
    }
    if (parents.length === 0) {
      return {
        id: row.id,
        status: 'ok' as const,
        reason: `parent "${parentRow}" wrote no records`,
        invocations: 0,
      };
    }
    const { keys, problems } = childStateKeys(pipeline.name, row.id, row.parentKey, parents);
    problems.push(...templateProblems(row, parents));
    if (problems.length > 0) {
      const error = new ConfigError(
        problems.map((message) => ({ path: '', message })),
        { context: `row "${row.id}" cannot run (nothing was run for it)` },
      );
      if (pipeline.execution.onError === 'stop') stopController.abort();
      return settle({ id: row.id, status: 'failed', reason: error.message, error, invocations: 0 }, parents);
    }
    // Stored before the first invocation, so a crash during the level keeps them.
    const before = await settle({ id: row.id, status: 'ok', invocations: 0 }, parents);
    if (before.status === 'failed') return before;

    observer.rowStarted(row.id, parents.length);
    const outcomes: InvocationOutcome[] = [];
    const done = new Set<number>();
    const running: Array<Promise<void>> = [];
    for (let i = 0; i < parents.length; i++) {
      await semaphore.acquire();
      if (signal.aborted) {
        semaphore.release();
        break;
      }
      const key = keys[i] as string;
      running.push(
        runOne(row, key, parents[i], key.slice(row.stateKey.length + 2))
          .then((o) => {
            outcomes.push(o);
            if (o.status === 'ok') done.add(i);
          })
          .finally(() => semaphore.release()),
      );
    }
    await Promise.all(running);
    const owed = parents.filter((_, i) => !done.has(i));
    // The list was stored in full before the level: write it again only if it shrank.
    if (!pending) return summarise(row, outcomes, parents.length);
    try {
      if (owed.length < parents.length) await pending.save(owed);
    } catch (error) {
      const failure = pipeline.redactor.redactError(
        toFaucetError(
          error,
          (m, cause) => new StateError(`cannot store the pending parents of "${row.id}": ${m}`, { cause }),
        ),
      );
      return {
        id: row.id,
        status: 'failed' as const,
        reason: failure.message,
        error: failure,
        invocations: outcomes.length,
      };
    }
    return summarise(row, outcomes, parents.length);
  };

  const runRow = async (row: LoadedRow): Promise<RowOutcome> => {
    const before = await Promise.all(
      predecessors(row).map((id) => rowOutcomes.get(id) as Promise<RowOutcome>),
    );
    const blocked = blockedReason(row, before);
    if (row.parent !== undefined) {
      if (row.children.length > 0 && !blocked) captured.set(row.id, []);
      return runChildRow(row, row.parent, blocked);
    }
    if (blocked) return { id: row.id, status: 'skipped', reason: blocked, invocations: 0 };
    if (row.children.length > 0) captured.set(row.id, []);
    return runRootRow(row);
  };

  try {
    for (const id of pipeline.order) {
      const row = pipeline.rowsById.get(id);
      if (!row) continue;
      const outcome = runRow(row).then((o) => {
        observer.rowFinished(o);
        if (row.parent !== undefined) {
          // The parent's captured records are dropped once every child row is done with them.
          const left = (pendingChildren.get(row.parent) ?? 1) - 1;
          pendingChildren.set(row.parent, left);
          if (left <= 0) captured.delete(row.parent);
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
      invocations,
      durationMs: performance.now() - started,
    };
  } finally {
    await stateStores.closeAll();
  }
}
