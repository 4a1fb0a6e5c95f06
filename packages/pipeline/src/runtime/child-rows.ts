/**
 * A DAG child row: one invocation per record its parent's sink wrote, with `${parent.…}` filled from
 * that record. The parents still owed an invocation are kept in the state store (the pending list), so
 * a child that failed or was interrupted runs for them in a later run, even if the parent then writes
 * nothing new.
 */
import { ConfigError, type FaucetError, type FaucetRecord, StateError, toFaucetError } from '@faucet/core';
import type { LoadedRow } from '../config/load.js';
import { findTemplates } from '../config/template.js';
import type { RowOutcome } from '../executor.js';
import { childStateKeys } from '../state-keys.js';
import { type Execution, runOne, summarise } from './execution.js';
import type { InvocationOutcome } from './invocation.js';
import { mergeParents, type PendingParents, pendingKey, pendingParents } from './pending.js';

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

function pendingFailure(
  exec: Execution,
  row: LoadedRow,
  what: 'read' | 'store',
  error: unknown,
): FaucetError {
  return exec.pipeline.redactor.redactError(
    toFaucetError(
      error,
      (m, cause) => new StateError(`cannot ${what} the pending parents of "${row.id}": ${m}`, { cause }),
    ),
  );
}

function failedRow(row: LoadedRow, error: FaucetError, invocations: number): RowOutcome {
  return { id: row.id, status: 'failed', reason: error.message, error, invocations };
}

/** The pending-parents list of a child row, when it has a state store. */
async function pendingOf(exec: Execution, row: LoadedRow): Promise<PendingParents | undefined> {
  const connector = row.connectors.state;
  if (!connector) return undefined;
  const store = await exec.stateStores.open(connector, {
    logger: exec.options.logger,
    redactor: exec.pipeline.redactor,
  });
  const writable = exec.mode === 'run' && exec.options.limit === undefined;
  return pendingParents(store, pendingKey(exec.pipeline.name, row.id), writable);
}

/** Run the child once per parent, at most `max_concurrent` at a time; the indexes of those that succeeded. */
async function runLevel(
  exec: Execution,
  row: LoadedRow,
  parents: readonly FaucetRecord[],
  keys: readonly (string | undefined)[],
): Promise<{ outcomes: InvocationOutcome[]; done: Set<number> }> {
  exec.observer.rowStarted(row.id, parents.length);
  const outcomes: InvocationOutcome[] = [];
  const done = new Set<number>();
  const running: Array<Promise<void>> = [];
  for (let i = 0; i < parents.length; i++) {
    await exec.semaphore.acquire();
    if (exec.signal.aborted) {
      exec.semaphore.release();
      break;
    }
    const key = keys[i] as string;
    running.push(
      runOne(exec, row, key, parents[i], key.slice(row.stateKey.length + 2))
        .then((o) => {
          outcomes.push(o);
          if (o.status === 'ok') done.add(i);
        })
        .finally(() => exec.semaphore.release()),
    );
  }
  await Promise.all(running);
  return { outcomes, done };
}

export async function runChildRow(
  exec: Execution,
  row: LoadedRow,
  parentRow: string,
  blocked: string | undefined,
): Promise<RowOutcome> {
  let pending: PendingParents | undefined;
  let earlier: FaucetRecord[] = [];
  try {
    pending = await pendingOf(exec, row);
    earlier = (await pending?.load()) ?? [];
  } catch (error) {
    return failedRow(row, pendingFailure(exec, row, 'read', error), 0);
  }
  const fresh = exec.captured.get(parentRow) ?? [];
  const parents = mergeParents(earlier, fresh, row.parentKey);
  /** Keep the parents still owed an invocation for the next run (no write when nothing changed). */
  const settle = async (outcome: RowOutcome, owed: readonly FaucetRecord[]): Promise<RowOutcome> => {
    if (!pending || (fresh.length === 0 && owed.length === earlier.length)) return outcome;
    try {
      await pending.save(owed);
    } catch (error) {
      return failedRow(row, pendingFailure(exec, row, 'store', error), outcome.invocations);
    }
    return outcome;
  };

  if (blocked) return settle({ id: row.id, status: 'skipped', reason: blocked, invocations: 0 }, parents);
  if (parents.length === 0) {
    return { id: row.id, status: 'ok', reason: `parent "${parentRow}" wrote no records`, invocations: 0 };
  }
  const { keys, problems } = childStateKeys(exec.pipeline.name, row.id, row.parentKey, parents);
  problems.push(...templateProblems(row, parents));
  if (problems.length > 0) {
    const error = new ConfigError(
      problems.map((message) => ({ path: '', message })),
      { context: `row "${row.id}" cannot run (nothing was run for it)` },
    );
    if (exec.pipeline.execution.onError === 'stop') exec.stopController.abort();
    return settle({ id: row.id, status: 'failed', reason: error.message, error, invocations: 0 }, parents);
  }
  // Stored before the first invocation, so a crash during the level keeps them.
  const before = await settle({ id: row.id, status: 'ok', invocations: 0 }, parents);
  if (before.status === 'failed') return before;

  const { outcomes, done } = await runLevel(exec, row, parents, keys);
  const owed = parents.filter((_, i) => !done.has(i));
  // The list was stored in full before the level: write it again only if it shrank.
  if (pending && owed.length < parents.length) {
    try {
      await pending.save(owed);
    } catch (error) {
      return failedRow(row, pendingFailure(exec, row, 'store', error), outcomes.length);
    }
  }
  return summarise(row, outcomes, parents.length);
}
