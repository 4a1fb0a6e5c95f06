/**
 * Turning pg errors into FaucetErrors that name the server (host:port) and never the password: the
 * URL's password is scrubbed from every message, and a client error that carries it is not kept as
 * the cause.
 */
import { CONNECTOR } from '@faucet/common-postgres';
import {
  AuthError,
  ConnectionError,
  errorMessage,
  type FaucetError,
  isFaucetError,
  isRetryable,
  Redactor,
  StateError,
} from '@faucet/core';

/** Where the store talks to, for messages, and what must never appear in them. */
export interface PostgresTarget {
  /** `host:port`, never credentials. */
  server: string;
  secrets: string[];
}

export function targetOfUrl(connectionUrl: string): PostgresTarget {
  const url = new URL(connectionUrl);
  const secrets = new Set<string>();
  for (const value of [url.password, url.searchParams.get('password') ?? '']) {
    if (value === '') continue;
    secrets.add(value);
    try {
      secrets.add(decodeURIComponent(value));
    } catch {
      // A malformed escape: the raw form is already listed.
    }
  }
  // `?host=/var/run/postgresql` (a socket directory) wins over the URL's host, as in libpq.
  const host = url.searchParams.get('host') || url.hostname || 'localhost';
  const port = url.port || url.searchParams.get('port') || '5432';
  return { server: `${host}:${port}`, secrets: [...secrets] };
}

/** The target of an injected pool, from its options (a connection string, or host and port). */
export function targetOfPool(options: {
  connectionString?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  password?: unknown;
}): PostgresTarget {
  const secrets = typeof options.password === 'string' && options.password !== '' ? [options.password] : [];
  if (options.connectionString) {
    try {
      const target = targetOfUrl(options.connectionString);
      return { server: target.server, secrets: [...target.secrets, ...secrets] };
    } catch {
      // Not a URL (a libpq keyword string): fall back to host and port.
    }
  }
  return { server: `${options.host ?? 'localhost'}:${options.port ?? 5432}`, secrets };
}

/** Every length counts: the one password of a connection URL is known exactly. */
function redactorFor(target: { secrets: readonly string[] }): Redactor {
  return new Redactor(target.secrets, { minLength: 1 });
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ENOENT', // a socket directory without a server
  // SQLSTATE: cannot connect now (starting up), admin / crash shutdown, too many connections.
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);
/** What pg says when a connection breaks or cannot be had from the pool in time. */
const CONNECTION_MESSAGES = new RegExp(
  [
    'Connection terminated',
    'timeout exceeded when trying to connect',
    'connection timeout',
    'Client has encountered a connection error',
  ].join('|'),
  'i',
);
/** SQLSTATEs where another try can succeed: serialization failure, deadlock, lock not available. */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03']);

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A readable reason: a failed connect to several addresses is an AggregateError without a message. */
function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    return error.errors.map((e) => errorMessage(e)).join('; ') || 'connection failed';
  }
  return errorMessage(error);
}

function isConnectionProblem(error: unknown): boolean {
  const code = sqlState(error);
  if (code !== undefined && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  if (error instanceof AggregateError) return error.errors.some(isConnectionProblem);
  return error instanceof Error && CONNECTION_MESSAGES.test(error.message);
}

/** Wrap a client error; `what` names the operation (`get of "orders::row-0"`). */
export function wrapPostgresError(error: unknown, what: string, target: PostgresTarget): FaucetError {
  if (isFaucetError(error)) return error;
  const cause = redactorFor(target).mentions(error) ? undefined : error;
  const options = cause === undefined ? { connector: CONNECTOR } : { connector: CONNECTOR, cause };
  let text = redactorFor(target).redact(reasonOf(error));
  // pg-pool says this both when a new connection is slow and when every pooled one is in use.
  if (/timeout exceeded when trying to connect/i.test(text)) {
    text += '; or every pooled connection was busy (each held lock keeps one)';
  }
  const code = sqlState(error);
  if (isConnectionProblem(error)) {
    return new ConnectionError(
      `postgres state store: ${what} failed: cannot reach PostgreSQL at ${target.server} (${text})`,
      options,
    );
  }
  if (code === '28P01' || code === '28000') {
    return new AuthError(
      `postgres state store: ${what} refused by PostgreSQL at ${target.server}: ${text}`,
      options,
    );
  }
  return new StateError(`postgres state store: ${what} failed on PostgreSQL at ${target.server}: ${text}`, {
    ...options,
    retryable: (code !== undefined && TRANSIENT_SQLSTATES.has(code)) || isRetryable(error),
  });
}
