/**
 * The connection side: a `pg` pool made from the config, or one the caller injects (Kysely-style),
 * and the mapping of client errors to FaucetErrors that name `host:port`, never the password.
 */
import {
  AuthError,
  CancelledError,
  ConnectionError,
  type FaucetError,
  isFaucetError,
  type Logger,
  type Redactor,
  SourceError,
} from '@faucet/core';
import pg from 'pg';

const CONNECTOR = 'postgres';

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
  return {
    connect: async () => ({
      query: (query) => client.query(query),
      release() {},
    }),
  };
}

/** `host:port` of a connection URL, for messages: never the user, password or query. */
export function serverName(connectionUrl: string): string {
  try {
    const url = new URL(connectionUrl);
    const hostParam = url.searchParams.get('host');
    const host = url.hostname ? decodeURIComponent(url.hostname) : (hostParam ?? 'localhost');
    const port = url.port || url.searchParams.get('port') || '5432';
    return `${host}:${port}`;
  } catch {
    return 'the configured server';
  }
}

export interface OwnedPool {
  pool: PostgresPool;
  end(): Promise<void>;
}

/** A pool of our own, from the config. Idle-client errors are logged, never thrown at the process. */
export function createOwnedPool(
  options: { connectionUrl: string; max: number; connectTimeoutMs: number; applicationName: string },
  logger: Logger,
  redactor: Redactor,
): OwnedPool {
  const pool = new pg.Pool({
    connectionString: options.connectionUrl,
    max: options.max,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 10_000,
    application_name: options.applicationName,
  });
  pool.on('error', (error) => {
    logger.warn('postgres: an idle connection failed', { error: redactor.redact(error.message) });
  });
  let ended: Promise<void> | undefined;
  return {
    pool: pool as unknown as PostgresPool,
    end: () => {
      ended ??= pool.end();
      return ended;
    },
  };
}

/** A server-side error: SQLSTATE `code` plus a severity (network errors have only a `code`). */
export interface ServerError {
  code: string;
  message: string;
  severity?: string;
  detail?: string;
  hint?: string;
}

export function isServerError(error: unknown): error is ServerError {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; severity?: unknown };
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string';
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
]);

function networkReason(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  if (typeof message === 'string' && /connection|terminated|timeout|socket|not queryable/i.test(message)) {
    return message;
  }
  return undefined;
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
  if (isFaucetError(error)) return error;
  const prefix = `postgres source (${ctx.server})`;
  let wrapped: FaucetError;
  if (ctx.signal?.aborted) {
    wrapped = new CancelledError(`${prefix}: ${ctx.action} was cancelled`, {
      cause: error,
      connector: CONNECTOR,
    });
  } else if (isServerError(error)) {
    const cls = error.code.slice(0, 2);
    const text = `${prefix}: ${ctx.action} failed: ${error.message} (SQLSTATE ${error.code})`;
    const options = { cause: error, connector: CONNECTOR };
    if (cls === '28') wrapped = new AuthError(text, options);
    else if (cls === '08' || cls === '53' || error.code === '57P01' || error.code === '57P03')
      wrapped = new ConnectionError(text, options);
    else wrapped = new SourceError(text, { ...options, retryable: cls === '40' });
  } else {
    const reason = networkReason(error);
    if (reason !== undefined) {
      wrapped = new ConnectionError(
        `postgres source: cannot reach ${ctx.server} while ${ctx.action} (${reason})`,
        {
          cause: error,
          connector: CONNECTOR,
        },
      );
    } else {
      const message = error instanceof Error ? error.message : String(error);
      wrapped = new SourceError(`${prefix}: ${ctx.action} failed: ${message}`, {
        cause: error,
        connector: CONNECTOR,
      });
    }
  }
  wrapped.message = ctx.redactor.redact(wrapped.message);
  return ctx.redactor.redactError(wrapped);
}
