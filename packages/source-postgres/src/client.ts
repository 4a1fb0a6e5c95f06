/**
 * The connection side: a `pg` pool made from the config, or one the caller injects (Kysely-style),
 * and the mapping of client errors to FaucetErrors that name `host:port`, never the password.
 */
import {
  CONNECTOR,
  createOwnedPool as createPgPool,
  guardClient,
  type OwnedPool as PgOwnedPool,
  wrapSourcePgError,
} from '@faucet/common-postgres';
import type { FaucetError, Logger, Redactor } from '@faucet/core';

/** One query as this source sends it. */
export interface PostgresQuery {
  text: string;
  values?: unknown[];
  rowMode?: 'array';
  types?: { getTypeParser: (oid: number, format?: string) => (text: string) => unknown };
}

export interface PostgresQueryResult {
  rows: unknown[];
  rowCount: number | null;
  fields: { name: string; dataTypeID: number }[];
}

/** What the source needs of a checked-out connection; a `pg.PoolClient` is one. */
export interface PostgresPoolClient {
  query(query: PostgresQuery): Promise<PostgresQueryResult>;
  release(destroy?: boolean | Error): void;
}

/** What the source needs of a pool; a `pg.Pool` is one. */
export interface PostgresPool {
  connect(): Promise<PostgresPoolClient>;
}

/** What the source needs of a single connected client; a connected `pg.Client` is one. */
export interface PostgresClient {
  query(query: PostgresQuery): Promise<PostgresQueryResult>;
}

/** A pool over one injected client: every checkout is that client, and releasing it keeps it open. */
export function poolOverClient(client: PostgresClient): PostgresPool {
  // A lost connection of the injected client must not crash the process while we use it either.
  guardClient(client);
  const checkout: PostgresPoolClient = {
    query: (query) => client.query(query),
    release() {},
  };
  return { connect: async () => checkout };
}

export type OwnedPool = PgOwnedPool<PostgresPool>;

/** A pool of our own, from the config. Idle-client errors are logged, never thrown at the process. */
export function createOwnedPool(
  options: { connectionUrl: string; max: number; connectTimeoutMs: number; applicationName: string },
  logger: Logger,
  redactor: Redactor,
): OwnedPool {
  const { pool, end } = createPgPool({ ...options, logName: 'postgres' }, logger, redactor);
  return { pool: pool as unknown as PostgresPool, end };
}

export interface ErrorContext {
  server: string;
  /** What was being done: `reading "public.orders"`, `connecting`. */
  action: string;
  redactor: Redactor;
  signal?: AbortSignal;
}

/**
 * A FaucetError for anything the client threw: server errors keep their message and SQLSTATE,
 * network errors become ConnectionError naming `host:port`; secrets are scrubbed from the whole chain.
 */
export function wrapPgError(error: unknown, ctx: ErrorContext): FaucetError {
  return wrapSourcePgError(error, {
    name: 'postgres source',
    server: ctx.server,
    action: ctx.action,
    serverText: (e) => `${e.message} (SQLSTATE ${e.code})`,
    connector: CONNECTOR,
    redactor: ctx.redactor,
    signal: ctx.signal,
  });
}
