/**
 * The mapping of client errors to FaucetErrors: SQLSTATE classes to AuthError, ConnectionError or the
 * caller's own error, network failures to a ConnectionError naming `host:port`, never the password.
 */
import {
  AuthError,
  CancelledError,
  ConnectionError,
  errorMessage,
  type FaucetError,
  type FaucetErrorOptions,
  isFaucetError,
  isNetworkError,
  type Redactor,
  SourceError,
} from '@faucet/core';

/** The connector id every PostgreSQL package reports. */
export const CONNECTOR = 'postgres';

/** Whether a value is a SQLSTATE: five digits or upper-case letters. */
export function isSqlState(code: unknown): code is string {
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/** A server-side error: SQLSTATE `code` plus a severity (network errors have only a `code`). */
export interface ServerError {
  code: string;
  message: string;
  severity: string;
  detail?: string;
  hint?: string;
}

export function isServerError(error: unknown): error is ServerError {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; severity?: unknown };
  return isSqlState(e.code) && typeof e.severity === 'string';
}

/** Why a connection failed (its errno code, or pg's message), or undefined for any other error. */
export function networkReason(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  // A connect to several addresses (localhost: ::1 and 127.0.0.1) that failed on each.
  if (error instanceof AggregateError && isNetworkError(error)) {
    return error.errors.map((e) => errorMessage(e)).join('; ');
  }
  const { code, message, syscall } = error as { code?: unknown; message?: unknown; syscall?: unknown };
  if (isNetworkError(error)) return String(code);
  // A socket directory (`?host=/var/run/postgresql`) without a server in it.
  if (code === 'ENOENT' && syscall === 'connect' && typeof message === 'string') return message;
  if (typeof message === 'string' && /connection|terminated|timeout|socket|not queryable/i.test(message)) {
    return message;
  }
  return undefined;
}

/**
 * SQLSTATEs of a connection that is gone or cannot be had: class 08 (connection exception), class 53
 * (insufficient resources: too many connections), admin and crash shutdown, starting up.
 */
function isConnectionState(code: string): boolean {
  const cls = code.slice(0, 2);
  return cls === '08' || cls === '53' || code === '57P01' || code === '57P02' || code === '57P03';
}

/** SQLSTATEs where another try can succeed: class 40 (serialization failure, deadlock), lock not available. */
function isTransientState(code: string): boolean {
  return code.startsWith('40') || code === '55P03';
}

export interface PgErrorMapping {
  /** Who speaks in messages: `postgres source`, `postgres sink`. */
  name: string;
  /** `host:port`. */
  server: string;
  /** What was being done: `reading "public.orders"`, `connecting`. */
  action: string;
  /** A server error as text: its message and SQLSTATE (and whatever else the package shows). */
  serverText: (error: ServerError) => string;
  /** The error for anything that is neither auth nor connection: a SourceError, a SinkError. */
  failure: (message: string, options: FaucetErrorOptions) => FaucetError;
}

/**
 * A FaucetError for anything the client threw (not redacted yet; see `redactPgError`): server errors
 * keep their message and SQLSTATE (class 28 auth; 08, 53, 57P01-57P03 connection; 40 and 55P03
 * retryable), network errors become ConnectionError naming `host:port`.
 */
export function mapPgError(error: unknown, mapping: PgErrorMapping): FaucetError {
  const { name, server, action } = mapping;
  const options = { cause: error, connector: CONNECTOR };
  if (isServerError(error)) {
    const text = `${name} (${server}): ${action} failed: ${mapping.serverText(error)}`;
    if (error.code.startsWith('28')) return new AuthError(text, options);
    if (isConnectionState(error.code)) return new ConnectionError(text, options);
    return mapping.failure(text, { ...options, retryable: isTransientState(error.code) });
  }
  const reason = networkReason(error);
  if (reason !== undefined) {
    return new ConnectionError(`${name}: cannot reach ${server} while ${action} (${reason})`, options);
  }
  const message = error instanceof Error ? error.message : String(error);
  return mapping.failure(`${name} (${server}): ${action} failed: ${message}`, options);
}

/** Secrets scrubbed from the error's message and from its whole cause chain. */
export function redactPgError(error: FaucetError, redactor: Redactor): FaucetError {
  error.message = redactor.redact(error.message);
  return redactor.redactError(error);
}

/** How a source names what failed: `mapPgError`'s mapping with a SourceError for other failures. */
export interface SourceErrorContext extends Omit<PgErrorMapping, 'failure'> {
  /** The connector a cancellation is reported for (`postgres`, `postgres-cdc`). */
  connector: string;
  redactor: Redactor;
  /** Once aborted, whatever failed is reported as the cancellation it followed from. */
  signal?: AbortSignal | undefined;
}

/**
 * A source's FaucetError for anything the client threw: a FaucetError passes through, a failure after
 * `signal` aborted is a CancelledError, anything else goes through `mapPgError`; secrets are scrubbed.
 */
export function wrapSourcePgError(error: unknown, context: SourceErrorContext): FaucetError {
  if (isFaucetError(error)) return error;
  const { name, server, action, serverText, connector, redactor, signal } = context;
  const wrapped = signal?.aborted
    ? new CancelledError(`${name} (${server}): ${action} was cancelled`, { cause: error, connector })
    : mapPgError(error, {
        name,
        server,
        action,
        serverText,
        failure: (message, options) => new SourceError(message, options),
      });
  return redactPgError(wrapped, redactor);
}
