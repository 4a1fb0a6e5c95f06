/**
 * The connection side: a `pg` pool made from the config, or one the caller injects (Kysely-style),
 * and the mapping of client errors to FaucetErrors that name `host:port`, never the password.
 */
import {
  AuthError,
  ConnectionError,
  type FaucetError,
  isFaucetError,
  type Logger,
  type Redactor,
  SinkError,
} from '@faucet/core';
import pg from 'pg';

export const CONNECTOR = 'postgres';

/** What the sink needs of a pool: checkouts of real `pg` clients (COPY streams through them). */
export interface PostgresSinkPool {
  connect(): Promise<pg.PoolClient>;
}

/** A pool over one injected, connected client: every checkout is that client, kept open on release. */
export function poolOverClient(client: pg.ClientBase): PostgresSinkPool {
  return {
    connect: async () =>
      new Proxy(client, {
        get(target, property) {
          if (property === 'release') return () => {};
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }) as pg.PoolClient,
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
  pool: PostgresSinkPool;
  end(): Promise<void>;
}

/** A pool of our own, from the config. Idle-client errors are logged, never thrown at the process. */
export function createOwnedPool(
  options: { connectionUrl: string; max: number; connectTimeoutMs: number },
  logger: Logger,
  redactor: Redactor,
): OwnedPool {
  const pool = new pg.Pool({
    connectionString: options.connectionUrl,
    max: options.max,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 10_000,
    application_name: 'faucet-sink-postgres',
  });
  pool.on('error', (error) => {
    logger.warn('postgres sink: an idle connection failed', { error: redactor.redact(error.message) });
  });
  let ended: Promise<void> | undefined;
  return {
    pool,
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
  severity: string;
  detail?: string;
}

export function isServerError(error: unknown): error is ServerError {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; severity?: unknown };
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string';
}

/**
 * A problem with one row's data, which another row would not have: data exceptions (class 22),
 * integrity violations (23: not null, unique, check, foreign key) and an upsert touching a row twice
 * (21000). Only these send a batch to the row-by-row search; anything else fails the batch.
 */
export function isRowDataError(error: unknown): error is ServerError {
  if (!isServerError(error)) return false;
  const cls = error.code.slice(0, 2);
  return cls === '22' || cls === '23' || error.code === '21000';
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

export function serverMessage(error: ServerError): string {
  const detail = error.detail ? ` ${error.detail}` : '';
  return `${error.message}${detail} (SQLSTATE ${error.code})`;
}

export interface ErrorContext {
  server: string;
  /** What was being done: `writing 10 rows to "public"."t"`, `connecting`. */
  action: string;
  redactor: Redactor;
}

/**
 * A FaucetError for anything the client threw: server errors keep their message and SQLSTATE,
 * network errors become ConnectionError naming `host:port`; secrets are scrubbed from the whole chain.
 */
export function wrapPgError(error: unknown, ctx: ErrorContext): FaucetError {
  if (isFaucetError(error)) return ctx.redactor.redactError(error);
  let wrapped: FaucetError;
  const options = { cause: error, connector: CONNECTOR };
  if (isServerError(error)) {
    const cls = error.code.slice(0, 2);
    const text = `postgres sink (${ctx.server}): ${ctx.action} failed: ${serverMessage(error)}`;
    if (cls === '28') wrapped = new AuthError(text, options);
    else if (cls === '08' || cls === '53' || error.code === '57P01' || error.code === '57P03')
      wrapped = new ConnectionError(text, options);
    else wrapped = new SinkError(text, { ...options, retryable: cls === '40' });
  } else {
    const reason = networkReason(error);
    if (reason !== undefined) {
      wrapped = new ConnectionError(
        `postgres sink: cannot reach ${ctx.server} while ${ctx.action} (${reason})`,
        options,
      );
    } else {
      const message = error instanceof Error ? error.message : String(error);
      wrapped = new SinkError(`postgres sink (${ctx.server}): ${ctx.action} failed: ${message}`, options);
    }
  }
  wrapped.message = ctx.redactor.redact(wrapped.message);
  return ctx.redactor.redactError(wrapped);
}
