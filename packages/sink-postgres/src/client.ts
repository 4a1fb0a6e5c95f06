/**
 * The connection side: a pool the caller injects (Kysely-style) or one of our own (see
 * `@faucet/common-postgres`), and the mapping of client errors to FaucetErrors that name `host:port`,
 * never the password.
 */
import { isServerError, mapPgError, redactPgError, type ServerError } from '@faucet/common-postgres';
import { type FaucetError, isFaucetError, type Redactor, SinkError } from '@faucet/core';
import type pg from 'pg';

/** What the sink needs of a pool: checkouts of real `pg` clients (COPY streams through them). */
export interface PostgresSinkPool {
  connect(): Promise<pg.PoolClient>;
}

/** A pool over one injected, connected client: every checkout is that client, kept open on release. */
export function poolOverClient(client: pg.ClientBase): PostgresSinkPool {
  // One proxy for every checkout, so what is attached to it (an error listener) is attached once.
  const checkout = new Proxy(client, {
    get(target, property) {
      if (property === 'release') return () => {};
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as pg.PoolClient;
  return { connect: async () => checkout };
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
  const wrapped = mapPgError(error, {
    name: 'postgres sink',
    server: ctx.server,
    action: ctx.action,
    serverText: serverMessage,
    failure: (message, options) => new SinkError(message, options),
  });
  return redactPgError(wrapped, ctx.redactor);
}
