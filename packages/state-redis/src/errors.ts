/**
 * Turning ioredis errors into FaucetErrors that name the server (host:port) and never a secret: the
 * store's redactor (the URL's password, and the run's secrets) scrubs every message, and a client
 * error that carries a secret is not kept as the cause.
 */
import {
  AuthError,
  ConnectionError,
  errorMessage,
  type FaucetError,
  isFaucetError,
  isNetworkError,
  isRetryable,
  type Redactor,
  StateError,
} from '@faucet/core';

export const CONNECTOR = 'redis';

/** Where the store talks to, for messages, and what must never appear in them. */
export interface RedisTarget {
  /** `host:port` (or a socket path), never credentials. */
  server: string;
  redactor: Redactor;
}

/** `host:port` of a Redis URL. */
export function serverOfUrl(connectionUrl: string): string {
  const url = new URL(connectionUrl);
  return `${url.hostname}:${url.port || '6379'}`;
}

/** `host:port` (or the socket path) of an injected client, from its options. */
export function serverOfClient(options: {
  host?: string | undefined;
  port?: number | undefined;
  path?: string | null | undefined;
}): string {
  if (options.path) return options.path;
  return `${options.host ?? 'localhost'}:${options.port ?? 6379}`;
}

/** Server replies that mean "try again shortly": loading a dataset, a failover in progress, busy. */
const TRANSIENT_REPLY = /^(LOADING|READONLY|TRYAGAIN|BUSY|MASTERDOWN|CLUSTERDOWN)\b/;

function isConnectionProblem(error: unknown): boolean {
  if (isNetworkError(error)) return true;
  if (!(error instanceof Error)) return false;
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
  const { redactor } = target;
  const message = (e: unknown) => redactor.redact(errorMessage(e));
  const withCause = (cause: unknown) =>
    redactor.mentions(cause) ? { connector: CONNECTOR } : { connector: CONNECTOR, cause };
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
