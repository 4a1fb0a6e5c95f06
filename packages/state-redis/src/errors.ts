/**
 * Turning ioredis errors into FaucetErrors that name the server (host:port) and never the password:
 * the URL's password is scrubbed from every message, and a client error that carries it is not kept
 * as the cause.
 */
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

export const CONNECTOR = 'redis';

/** Where the store talks to, for messages, and what must never appear in them. */
export interface RedisTarget {
  /** `host:port`, never credentials. */
  server: string;
  secrets: string[];
}

export function targetOfUrl(connectionUrl: string): RedisTarget {
  const url = new URL(connectionUrl);
  const secrets = new Set<string>();
  if (url.password !== '') {
    secrets.add(url.password);
    try {
      secrets.add(decodeURIComponent(url.password));
    } catch {
      // A malformed escape: the raw form is already listed.
    }
  }
  return { server: `${url.hostname}:${url.port || '6379'}`, secrets: [...secrets] };
}

export function targetOfClient(options: {
  host?: string | undefined;
  port?: number | undefined;
  path?: string | null | undefined;
}): RedisTarget {
  if (options.path) return { server: options.path, secrets: [] };
  return { server: `${options.host ?? 'localhost'}:${options.port ?? 6379}`, secrets: [] };
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
]);

/** Server replies that mean "try again shortly": loading a dataset, a failover in progress, busy. */
const TRANSIENT_REPLY = /^(LOADING|READONLY|TRYAGAIN|BUSY|MASTERDOWN|CLUSTERDOWN)\b/;

function isConnectionProblem(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  // ioredis gives up on a command after maxRetriesPerRequest reconnects, or when the socket closed.
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|connect ETIMEDOUT|Command timed out/i.test(error.message)
  );
}

/**
 * Wrap a client error. `what` names the operation (`get of "orders::row-0"`); `reason` is the last
 * connection error the client reported, which says more than "max retries reached".
 */
export function wrapRedisError(
  error: unknown,
  what: string,
  target: RedisTarget,
  reason?: unknown,
): FaucetError {
  if (isFaucetError(error)) return error;
  const message = (e: unknown) => redactorFor(target).redact(errorMessage(e));
  const withCause = (cause: unknown) =>
    redactorFor(target).mentions(cause) ? { connector: CONNECTOR } : { connector: CONNECTOR, cause };
  if (isConnectionProblem(error)) {
    // The socket error (ECONNREFUSED, ...) says more than "Connection is closed": keep it as the cause.
    const cause = reason instanceof Error ? reason : error;
    return new ConnectionError(
      `redis state store: ${what} failed: cannot reach Redis at ${target.server} (${message(cause)})`,
      withCause(cause),
    );
  }
  const options = withCause(error);
  const text = message(error);
  if (/^(NOAUTH|WRONGPASS|NOPERM)\b/.test(text)) {
    return new AuthError(`redis state store: ${what} refused by Redis at ${target.server}: ${text}`, options);
  }
  return new StateError(`redis state store: ${what} failed on Redis at ${target.server}: ${text}`, {
    ...options,
    retryable: TRANSIENT_REPLY.test(text) || isRetryable(error),
  });
}
