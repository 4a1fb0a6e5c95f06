/**
 * `faucet state list|get|set|delete` against the state store a pipeline file configures. `set` and
 * `delete` take the key's lock when the store has locks, so they refuse while a run holds it.
 */
import { randomUUID } from 'node:crypto';
import {
  assertStateKey,
  isStateEnvelope,
  type JsonValue,
  type ReleaseLock,
  type StateStore,
  silentLogger,
  wrapState,
} from '@faucet/core';
import {
  createStateStores,
  type LoadedPipeline,
  type LoadedRow,
  loadPipeline,
  UsageError,
} from '@faucet/pipeline';
import { cliHost } from '../cli-package.js';
import { type CliIo, ExitCode, writeLine } from '../io.js';
import { enterConfigDir } from './common.js';

export interface StateOptions {
  config?: string;
  row?: string;
  output?: 'text' | 'json';
}

const LOCK_TTL_MS = 30_000;

/** The row whose state store to use: `--row`, or the one store all rows share. */
function stateRow(pipeline: LoadedPipeline, id: string | undefined): LoadedRow {
  if (id !== undefined) {
    const row = pipeline.rowsById.get(id);
    if (!row) throw new UsageError(`no row "${id}" in ${pipeline.displayFile}`);
    if (!row.connectors.state) throw new UsageError(`row "${id}" has no state store configured`);
    return row;
  }
  const withState = pipeline.rows.filter((r) => r.connectors.state);
  const first = withState[0];
  if (!first) throw new UsageError(`${pipeline.displayFile} configures no state store (pipeline.state)`);
  const distinct = new Set(
    withState.map((r) => JSON.stringify([r.connectors.state?.spec.type, r.connectors.state?.config])),
  );
  if (distinct.size > 1) {
    throw new UsageError(
      `rows of ${pipeline.displayFile} use different state stores; pick one with --row (${withState.map((r) => r.id).join(', ')})`,
    );
  }
  return first;
}

async function withStore<T>(
  options: StateOptions,
  io: CliIo,
  action: (store: StateStore, row: LoadedRow, pipeline: LoadedPipeline) => Promise<T>,
): Promise<T> {
  const pipeline = await loadPipeline(options.config, { env: io.env, cwd: io.cwd, host: cliHost() });
  const row = stateRow(pipeline, options.row);
  enterConfigDir(pipeline);
  const stores = createStateStores();
  try {
    const connector = row.connectors.state;
    if (!connector) throw new UsageError(`row "${row.id}" has no state store`);
    const store = await stores.open(connector, { logger: silentLogger, redactor: pipeline.redactor });
    return await action(store, row, pipeline);
  } finally {
    await stores.closeAll();
  }
}

async function withLock<T>(store: StateStore, key: string, action: () => Promise<T>): Promise<T> {
  let release: ReleaseLock | undefined;
  if (store.lock) release = await store.lock(key, LOCK_TTL_MS);
  try {
    return await action();
  } finally {
    await release?.();
  }
}

export function stateListCommand(options: StateOptions & { prefix?: string }, io: CliIo): Promise<number> {
  return withStore(options, io, async (store) => {
    const keys = await store.list(options.prefix ?? '');
    if (options.output === 'json') writeLine(io.stdout, JSON.stringify(keys));
    else for (const key of keys) writeLine(io.stdout, key);
    return ExitCode.ok;
  });
}

export function stateGetCommand(key: string, options: StateOptions, io: CliIo): Promise<number> {
  assertStateKey(key);
  return withStore(options, io, async (store, _row, pipeline) => {
    const value = await store.get(key);
    if (value === undefined) {
      writeLine(io.stderr, `faucet: no state stored under "${key}"`);
      return ExitCode.failed;
    }
    const shown = pipeline.redactor.redactValue(value);
    writeLine(io.stdout, options.output === 'json' ? JSON.stringify(shown) : JSON.stringify(shown, null, 2));
    return ExitCode.ok;
  });
}

/**
 * Store a value. A state envelope (as `state get` prints it) is stored as given; anything else is
 * taken as a bookmark and wrapped in an envelope naming the row's source.
 */
export function stateSetCommand(
  key: string,
  json: string,
  options: StateOptions,
  io: CliIo,
): Promise<number> {
  assertStateKey(key);
  let value: JsonValue;
  try {
    value = JSON.parse(json) as JsonValue;
  } catch (error) {
    throw new UsageError(`the value must be JSON: ${(error as Error).message}`);
  }
  return withStore(options, io, async (store, row) => {
    const stored = isStateEnvelope(value)
      ? value
      : wrapState({
          bookmark: value,
          source: {
            type: row.connectors.source.descriptor.id,
            version: row.connectors.source.resolved.version,
          },
          run_id: `faucet-state-set-${randomUUID()}`,
        });
    await withLock(store, key, () => store.put(key, stored as JsonValue));
    writeLine(io.stderr, `stored "${key}"`);
    return ExitCode.ok;
  });
}

/** Takes the locks of all keys (in order), releasing the ones taken when one is refused. */
async function withLocks<T>(
  store: StateStore,
  keys: readonly string[],
  action: () => Promise<T>,
): Promise<T> {
  const [first, ...rest] = keys;
  if (first === undefined) return action();
  return withLock(store, first, () => withLocks(store, rest, action));
}

const MAX_KEYS_SHOWN = 5;

/**
 * Delete a key and every key under it (`{key}::…`): the per-partition keys of a partitioned source
 * (`{key}::{partition}`) and, for a DAG child row, its per-parent keys. Left behind, they would make
 * the next run resume those partitions instead of starting from the beginning. Each key's lock is
 * taken, so this refuses while a run (of the row or of one DAG invocation) holds one.
 */
export function stateDeleteCommand(key: string, options: StateOptions, io: CliIo): Promise<number> {
  assertStateKey(key);
  return withStore(options, io, async (store) => {
    // Listed under the key's lock: a run of the row holds it while it stores partition keys.
    const { existed, under } = await withLock(store, key, async () => {
      const found = {
        existed: (await store.get(key)) !== undefined,
        under: (await store.list(`${key}::`)).sort(),
      };
      await withLocks(store, found.under, async () => {
        await store.delete(key);
        for (const sub of found.under) await store.delete(sub);
      });
      return found;
    });
    const fresh = 'its next run starts from the beginning';
    if (under.length === 0) {
      writeLine(io.stderr, existed ? `deleted "${key}"; ${fresh}` : `no state under "${key}"`);
      return ExitCode.ok;
    }
    const count = `${under.length} ${under.length === 1 ? 'key' : 'keys'}`;
    const more = under.length > MAX_KEYS_SHOWN ? `, and ${under.length - MAX_KEYS_SHOWN} more` : '';
    const listed = `(${under.slice(0, MAX_KEYS_SHOWN).join(', ')}${more})`;
    const what = existed ? `"${key}" and ${count} under it` : `${count} under "${key}"`;
    writeLine(io.stderr, `deleted ${what} ${listed}; ${fresh}`);
    return ExitCode.ok;
  });
}
