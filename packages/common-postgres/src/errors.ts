/**
 * The mapping of client errors to FaucetErrors: SQLSTATE classes to AuthError, ConnectionError or the
 * caller's own error, network failures to a ConnectionError naming `host:port`, never the password.
 */
import {
  AuthError,
  ConnectionError,
  type FaucetError,
  type FaucetErrorOptions,
  type Redactor,
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

/** Why a connection failed (its errno code, or pg's message), or undefined for any other error. */
export function networkReason(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  if (typeof message === 'string' && /connection|terminated|timeout|socket|not queryable/i.test(message)) {
    return message;
  }
  return undefined;
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
 * keep their message and SQLSTATE (class 28 auth, 08, 53, 57P01 and 57P03 connection, 40 retryable),
 * network errors become ConnectionError naming `host:port`.
 */
export function mapPgError(error: unknown, mapping: PgErrorMapping): FaucetError {
  const { name, server, action } = mapping;
  const options = { cause: error, connector: CONNECTOR };
  if (isServerError(error)) {
    const cls = error.code.slice(0, 2);
    const text = `${name} (${server}): ${action} failed: ${mapping.serverText(error)}`;
    if (cls === '28') return new AuthError(text, options);
    if (cls === '08' || cls === '53' || error.code === '57P01' || error.code === '57P03') {
      return new ConnectionError(text, options);
    }
    return mapping.failure(text, { ...options, retryable: cls === '40' });
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
