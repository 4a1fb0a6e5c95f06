/**
 * The `postgres` state store: one row per state key in a table
 * `(key text primary key, value jsonb not null, updated_at timestamptz not null default now())`,
 * replaced by an upsert; `lock` is a session-level advisory lock (see lock.ts). The pool is either
 * injected (the caller owns it) or made from `connection_url`.
 */
import { CONNECTOR, isSqlState, quoteQualified } from '@faucet/common-postgres';
import {
  assertLockTtl,
  assertStateKey,
  ConfigError,
  encodeStateValue,
  formatIssuePath,
  type JsonValue,
  type Logger,
  StateError,
  type StateStore,
  silentLogger,
} from '@faucet/core';
import { Pool } from 'pg';
import type { z } from 'zod';
import {
  type PostgresStateStoreConfigInput,
  postgresStateStoreConfigSchema,
  postgresStateStorePoolOptionsSchema,
} from './config.js';
import { type PostgresTarget, targetOfPool, targetOfUrl, wrapPostgresError } from './errors.js';
import { acquirePostgresLock, applicationName, type HeldPostgresLock } from './lock.js';

export type PostgresStateStoreOptions = Omit<
  PostgresStateStoreConfigInput,
  'connection_url' | 'max_connections' | 'connect_timeout_ms'
> & {
  /** Where to connect; leave out when `pool` is given. */
  connection_url?: string;
  /** Pool size and connect timeout, for a pool made from `connection_url`. */
  max_connections?: number;
  connect_timeout_ms?: number;
  /** A pool you own: the store uses it as is and never ends it. Each held lock keeps one of its clients. */
  pool?: Pool;
  /** Where warnings go (a lock whose connection was lost). */
  logger?: Logger;
};

/** A postgres state store: always has `lock` and `close`. */
export type PostgresStateStore = StateStore & Required<Pick<StateStore, 'lock' | 'close'>>;

const CONTEXT = 'invalid config for state "postgres"';
/**
 * SQLSTATEs of a `create table if not exists` that lost a race with another process doing the same:
 * unique_violation on the catalog, duplicate_table, and duplicate_object (the table's row type or
 * its primary key index created by the winner between our check and our create).
 */
const CREATED_CONCURRENTLY = new Set(['23505', '42P07', '42710']);

function configError(issues: readonly z.core.$ZodIssue[]): ConfigError {
  return new ConfigError(
    issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message })),
    { context: CONTEXT },
  );
}

/** Escape LIKE wildcards (and the escape character itself), so a prefix is matched literally. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

function sqlState(error: unknown): string | undefined {
  let current: unknown = error;
  // Our wrapper keeps the pg error as its cause.
  while (current instanceof Error) {
    const code = (current as { code?: unknown }).code;
    if (isSqlState(code)) return code;
    current = current.cause;
  }
  return undefined;
}

export function createPostgresStateStore(options: PostgresStateStoreOptions): PostgresStateStore {
  const { pool: injected, connection_url, logger: givenLogger, ...settings } = options;
  const logger = givenLogger ?? silentLogger;
  if (injected !== undefined && connection_url !== undefined) {
    throw new ConfigError('give either pool or connection_url, not both', { context: CONTEXT });
  }
  let pool: Pool;
  let target: PostgresTarget;
  let table: string;
  let ensureTable: boolean;
  if (injected === undefined) {
    const parsed = postgresStateStoreConfigSchema.safeParse({ ...settings, connection_url });
    if (!parsed.success) throw configError(parsed.error.issues);
    const config = parsed.data;
    target = targetOfUrl(config.connection_url);
    table = config.table;
    ensureTable = config.ensure_table;
    pool = new Pool({
      connectionString: config.connection_url,
      max: config.max_connections,
      connectionTimeoutMillis: config.connect_timeout_ms,
      // Shown in pg_stat_activity, and how a refused lock names the process that holds it.
      application_name: applicationName(),
      // A lock's session may sit idle for hours; keepalives let both ends notice a dead peer.
      keepAlive: true,
      idleTimeoutMillis: 30_000,
    });
    // An idle client that loses its connection (a server restart) is dropped by the pool; without a
    // listener the 'error' event would crash the process. The next query reconnects.
    pool.on('error', (error) => {
      logger.debug('postgres state store: an idle connection was lost', { error: error.name });
    });
  } else {
    const { max_connections: _size, connect_timeout_ms: _timeout, ...rest } = settings;
    const parsed = postgresStateStorePoolOptionsSchema.safeParse(rest);
    if (!parsed.success) throw configError(parsed.error.issues);
    table = parsed.data.table;
    ensureTable = parsed.data.ensure_table;
    pool = injected;
    target = targetOfPool(injected.options);
  }
  // The config allows only letters, digits and `_` in a name: every dot separates schema and table.
  const quoted = quoteQualified(table.split('.'));
  const sql = {
    create:
      `create table if not exists ${quoted} (key text primary key, value jsonb not null, ` +
      'updated_at timestamptz not null default now())',
    get: `select value from ${quoted} where key = $1`,
    put:
      `insert into ${quoted} (key, value, updated_at) values ($1, $2::jsonb, now()) ` +
      'on conflict (key) do update set value = excluded.value, updated_at = now()',
    delete: `delete from ${quoted} where key = $1`,
    list: `select key from ${quoted} where key like $1 escape '\\'`,
  };

  let closed = false;
  /** Locks this store holds, by state key. */
  const heldLocks = new Map<string, HeldPostgresLock>();
  /** The held lock that covers a key: its own, or its parent's (`{key}::{partition}`). */
  const lockCovering = (key: string): HeldPostgresLock | undefined =>
    [...heldLocks.entries()].find(([locked]) => key === locked || key.startsWith(`${locked}::`))?.[1];
  const writeQueues = new Map<string, Promise<void>>();
  let tableReady: Promise<void> | undefined;

  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    if (closed) {
      throw new StateError(`postgres state store: ${what} failed: the store is closed`, {
        connector: CONNECTOR,
      });
    }
    try {
      return await run();
    } catch (error) {
      const wrapped = wrapPostgresError(error, what, target);
      if (sqlState(error) === '42P01') {
        throw new StateError(
          `${wrapped.message}; create the table ${table} (see the @faucet/state-postgres README) or set ` +
            'ensure_table: true',
          { cause: wrapped, connector: CONNECTOR },
        );
      }
      throw wrapped;
    }
  };

  const createTable = async (): Promise<void> => {
    try {
      await pool.query(sql.create);
    } catch (error) {
      // Another process created it between our check and our insert into the catalog: it exists.
      if (CREATED_CONCURRENTLY.has(sqlState(error) ?? '')) return;
      tableReady = undefined; // let the next call try again
      throw error;
    }
  };

  /** Create the table once per store, on first use; `what` names the operation that needed it. */
  const ready = (what: string): Promise<void> => {
    if (!ensureTable) return Promise.resolve();
    return call(`${what} (creating table ${table})`, () => {
      tableReady ??= createTable();
      return tableReady;
    });
  };

  /** Puts and deletes of one key run one after another, so the last call wins (pooled connections race). */
  const enqueue = (key: string, task: () => Promise<void>): Promise<void> => {
    const previous = writeQueues.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    writeQueues.set(key, next);
    const forget = (): void => {
      if (writeQueues.get(key) === next) writeQueues.delete(key);
    };
    void next.then(forget, forget);
    return next;
  };

  return {
    durable: true,

    async get(key) {
      assertStateKey(key);
      await ready(`get of "${key}"`);
      const { rows } = await call(`get of "${key}"`, () => pool.query<{ value: JsonValue }>(sql.get, [key]));
      // pg parses jsonb into a fresh object on every read, so callers never share our copy.
      return rows.length === 0 ? undefined : (rows[0]?.value as JsonValue);
    },

    async put(key, value) {
      assertStateKey(key);
      const text = encodeStateValue(key, value, { connector: CONNECTOR });
      return enqueue(key, async () => {
        // A run whose lock went with a lost connection takes it again before it writes, or fails.
        await lockCovering(key)?.ensureHeld();
        await ready(`put of "${key}"`);
        await call(`put of "${key}"`, () => pool.query(sql.put, [key, text]));
      });
    },

    async delete(key) {
      assertStateKey(key);
      return enqueue(key, async () => {
        await lockCovering(key)?.ensureHeld();
        await ready(`delete of "${key}"`);
        await call(`delete of "${key}"`, () => pool.query(sql.delete, [key]));
      });
    },

    async list(prefix = '') {
      const what = prefix ? `list (prefix "${prefix}")` : 'list';
      await ready(what);
      const { rows } = await call(what, () =>
        pool.query<{ key: string }>(sql.list, [`${escapeLike(prefix)}%`]),
      );
      // Sorted here, not in SQL: the database's collation may order keys differently from JavaScript.
      return rows.map((row) => row.key).sort();
    },

    async lock(key, ttlMs) {
      assertStateKey(key);
      // The lock lives as long as its session, so the TTL only has to be valid.
      assertLockTtl(ttlMs);
      const held = await acquirePostgresLock({ pool, key, lockName: key, logger, call });
      heldLocks.set(key, held);
      return async () => {
        if (heldLocks.get(key) === held) heldLocks.delete(key);
        await held.release();
      };
    },

    /** Waits for writes in flight, releases held locks, then ends the pool it made (not an injected one). */
    async close() {
      if (closed) return;
      await Promise.allSettled([...writeQueues.values()]);
      await Promise.allSettled([...heldLocks.values()].map((held) => held.release()));
      closed = true;
      if (injected === undefined) await pool.end().catch(() => undefined);
    },
  };
}
