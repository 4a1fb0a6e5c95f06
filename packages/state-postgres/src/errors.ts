/**
 * Turning pg errors into FaucetErrors that name the server (host:port) and never a secret, with the
 * mapping every faucet PostgreSQL package uses (`@faucet/common-postgres`): the store's redactor (the
 * URL's password, and the run's secrets) scrubs the message and the whole cause chain.
 */
import { mapPgError, redactPgError, serverName } from '@faucet/common-postgres';
import { type FaucetError, isFaucetError, type Redactor, StateError } from '@faucet/core';

/** Where the store talks to, for messages, and what must never appear in them. */
export interface PostgresTarget {
  /** `host:port`, never credentials. */
  server: string;
  redactor: Redactor;
}

/** `host:port` of an injected pool, from its options (a connection string, or host and port). */
export function serverOfPool(options: {
  connectionString?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
}): string {
  if (options.connectionString) {
    const server = serverName(options.connectionString);
    // Not a URL (a libpq keyword string): fall back to host and port.
    if (server !== 'the configured server') return server;
  }
  return `${options.host ?? 'localhost'}:${options.port ?? 5432}`;
}

/** Wrap a client error; `action` names the operation (`putting "orders::row-0"`). */
export function wrapPostgresError(error: unknown, action: string, target: PostgresTarget): FaucetError {
  if (isFaucetError(error)) return error;
  const wrapped = mapPgError(error, {
    name: 'postgres state store',
    server: target.server,
    action,
    serverText: (e) => `${e.message} (SQLSTATE ${e.code})`,
    failure: (message, options) => new StateError(message, options),
  });
  // pg-pool says this both when a new connection is slow and when every pooled one is in use.
  if (/timeout exceeded when trying to connect/i.test(wrapped.message)) {
    wrapped.message += '; or every pooled connection was busy (each held lock keeps one)';
  }
  return redactPgError(wrapped, target.redactor);
}
