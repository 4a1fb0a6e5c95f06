/**
 * The `postgres` state store: one row per state key in a table
 * `(key text primary key, value jsonb not null, updated_at timestamptz not null default now())`,
 * replaced by an upsert; `lock` is a session-level advisory lock (see lock.ts). The pool is either
 * injected (the caller owns it) or made from `connection_url`.
 */
import { CONNECTOR, createOwnedPool, isSqlState, quoteQualified, serverName } from '@faucet/common-postgres';
import {
  assertLockTtl,
  assertStateKey,
  ConfigError,
  type CreateEnv,
  connectionUrlRedactor,
  coveringKey,
  createKeyedWriteQueue,
  encodeStateValue,
  formatIssuePath,
  type JsonValue,
  type Logger,
  Redactor,
  StateError,
  type StateStore,
  silentLogger,
} from '@faucet/core';
import type { Pool } from 'pg';
import type { z } from 'zod';
import {
  type PostgresStateStoreConfigInput,
  postgresStateStoreConfigSchema,
  postgresStateStorePoolOptionsSchema,
} from './config.js';
import { type PostgresTarget, serverOfPool, wrapPostgresError } from './errors.js';
import { acquirePostgresLock, applicationName, type HeldPostgresLock } from './lock.js';

/**
 * The config, as under `state: { type: postgres, config: … }`. With an injected pool leave out
 * `connection_url` (and the pool settings `max_connections`, `connect_timeout_ms`).
 */
export type PostgresStateStoreInput = Omit<PostgresStateStoreConfigInput, 'connection_url'> & {
  connection_url?: string;
};

/** What a store is created with besides its config: the plugin environment (optional), a pool. */
export type PostgresStateStoreOptions = Partial<CreateEnv> & {
  /** A pool you own: the store uses it as is and never ends it. Each held lock keeps one of its clients. */
  pool?: Pool;
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

interface Connection {
  pool: Pool;
  /** Ends a pool of our own; nothing for an injected one. */
  end: () => Promise<void>;
  target: PostgresTarget;
  table: string;
  ensureTable: boolean;
}

/** The pool (ours, from the config, or the caller's) and the settings the store works with. */
function connect(
  input: PostgresStateStoreInput,
  options: PostgresStateStoreOptions,
  logger: Logger,
): Connection {
  const { pool: injected } = options;
  const { connection_url, ...settings } = input;
  if (injected !== undefined && connection_url !== undefined) {
    throw new ConfigError('give either pool or connection_url, not both', { context: CONTEXT });
  }
  if (injected !== undefined) {
    const { max_connections: _size, connect_timeout_ms: _timeout, ...rest } = settings;
    const parsed = postgresStateStorePoolOptionsSchema.safeParse(rest);
    if (!parsed.success) throw configError(parsed.error.issues);
    return {
      pool: injected,
      end: async () => {},
      target: { server: serverOfPool(injected.options), redactor: options.redactor ?? new Redactor() },
      table: parsed.data.table,
      ensureTable: parsed.data.ensure_table,
    };
  }
  const parsed = postgresStateStoreConfigSchema.safeParse({ ...settings, connection_url });
  if (!parsed.success) throw configError(parsed.error.issues);
  const config = parsed.data;
  const redactor = connectionUrlRedactor(config.connection_url).merge(
    options.redactor ?? Redactor.forConfig(config),
  );
  // An idle client that loses its connection (a server restart) is dropped by the pool and logged;
  // the next query reconnects.
  const { pool, end } = createOwnedPool(
    {
      connectionUrl: config.connection_url,
      max: config.max_connections,
      connectTimeoutMs: config.connect_timeout_ms,
      // Shown in pg_stat_activity, and how a refused lock names the process that holds it.
      applicationName: applicationName(),
      logName: 'postgres state store',
      // A lock's session may sit idle for hours; keepalives let both ends notice a dead peer.
      keepAlive: true,
      idleTimeoutMs: 30_000,
    },
    logger,
    redactor,
  );
  return {
    pool,
    end,
    target: { server: serverName(config.connection_url), redactor },
    table: config.table,
    ensureTable: config.ensure_table,
  };
}

/** The statements on the table; the config allows only letters, digits and `_`, so a dot separates schema and table. */
function statements(table: string) {
  const quoted = quoteQualified(table.split('.'));
  return {
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
}

/**
 * A postgres state store, created like every plugin: `createPostgresStateStore(config, { logger,
 * redactor })`, or `createPostgresStateStore({ table }, { pool })` over a pool you own.
 */
export function createPostgresStateStore(
  input: PostgresStateStoreInput,
  options: PostgresStateStoreOptions = {},
): PostgresStateStore {
  const logger = options.logger ?? silentLogger;
  const { pool, end, target, table, ensureTable } = connect(input, options, logger);
  const sql = statements(table);

  let closed = false;
  /** Locks this store holds, by state key. */
  const heldLocks = new Map<string, HeldPostgresLock>();
  /** The held lock that covers a key: its own, or its parent's (`{key}::{partition}`). */
  const lockCovering = (key: string): HeldPostgresLock | undefined => {
    const locked = coveringKey(heldLocks.keys(), key);
    return locked === undefined ? undefined : heldLocks.get(locked);
  };
  /** Puts and deletes of one key run one after another, so the last call wins (pooled connections race). */
  const writes = createKeyedWriteQueue();
  let tableReady: Promise<void> | undefined;

  /** Run a client call; `action` names it for messages (`putting "orders::row-0"`). */
  const call = async <T>(action: string, run: () => Promise<T>): Promise<T> => {
    if (closed) {
      throw new StateError(`postgres state store: ${action} failed: the store is closed`, {
        connector: CONNECTOR,
      });
    }
    try {
      return await run();
    } catch (error) {
      const wrapped = wrapPostgresError(error, action, target);
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

  /** Create the table once per store, on first use; `action` names the operation that needed it. */
  const ready = (action: string): Promise<void> => {
    if (!ensureTable) return Promise.resolve();
    return call(`creating table ${table} (for ${action})`, () => {
      tableReady ??= createTable();
      return tableReady;
    });
  };

  /** A put or delete: after the lock that covers it is made sure of, in call order per key. */
  const write = (key: string, action: string, text: string, params: unknown[]): Promise<void> =>
    writes.run(key, async () => {
      // A run whose lock went with a lost connection takes it again before it writes, or fails.
      await lockCovering(key)?.ensureHeld();
      await ready(action);
      await call(action, () => pool.query(text, params));
    });

  return {
    durable: true,

    async get(key) {
      assertStateKey(key);
      const action = `getting "${key}"`;
      await ready(action);
      const { rows } = await call(action, () => pool.query<{ value: JsonValue }>(sql.get, [key]));
      // pg parses jsonb into a fresh object on every read, so callers never share our copy.
      return rows.length === 0 ? undefined : (rows[0]?.value as JsonValue);
    },

    async put(key, value) {
      assertStateKey(key);
      const text = encodeStateValue(key, value, { connector: CONNECTOR });
      return write(key, `putting "${key}"`, sql.put, [key, text]);
    },

    async delete(key) {
      assertStateKey(key);
      return write(key, `deleting "${key}"`, sql.delete, [key]);
    },

    async list(prefix = '') {
      const action = prefix ? `listing keys (prefix "${prefix}")` : 'listing keys';
      await ready(action);
      const { rows } = await call(action, () =>
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
      await writes.settled();
      await Promise.allSettled([...heldLocks.values()].map((held) => held.release()));
      closed = true;
      await end().catch(() => undefined);
    },
  };
}
