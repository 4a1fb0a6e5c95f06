/**
 * The connection side: the `connection_url` config field, `host:port` for messages (never the
 * password), and a `pg` pool of our own made from the config.
 */
import { type Logger, type Redactor, secret } from '@faucet/core';
import pg from 'pg';
import { z } from 'zod';

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

function isParsableUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** The `connection_url` field of a config: a postgres URL, marked `secret()` (it may carry a password). */
export function connectionUrlSchema(): z.ZodString {
  return secret(
    z
      .string()
      .min(1)
      .regex(POSTGRES_URL, 'expected a postgres:// or postgresql:// URL')
      .refine(isParsableUrl, 'not a valid URL (percent-encode special characters in the password)'),
  ).describe('postgres://user:password@host:5432/database?sslmode=… (standard libpq URL)');
}

/** The `connect_timeout_ms` field of a config: whole milliseconds, 10 s by default. */
export function connectTimeoutMsSchema() {
  return z.number().int().min(1).default(10_000).describe('Time limit for opening a connection, in ms');
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

export interface OwnedPool<P = pg.Pool> {
  pool: P;
  end(): Promise<void>;
}

export interface OwnedPoolOptions {
  connectionUrl: string;
  max: number;
  connectTimeoutMs: number;
  /** Shown in `pg_stat_activity`: `faucet-source-postgres`. */
  applicationName: string;
  /** Who logs a failed idle connection: `postgres`, `postgres sink`. */
  logName: string;
  /** TCP keepalive, for sessions that sit idle for long (a held lock): both ends notice a dead peer. */
  keepAlive?: boolean;
  /** Close a connection idle in the pool for this long (default 10 s). */
  idleTimeoutMs?: number;
}

/** A pool of our own, from the config. Idle-client errors are logged, never thrown at the process. */
export function createOwnedPool(options: OwnedPoolOptions, logger: Logger, redactor: Redactor): OwnedPool {
  const pool = new pg.Pool({
    connectionString: options.connectionUrl,
    max: options.max,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
    application_name: options.applicationName,
    ...(options.keepAlive ? { keepAlive: true } : {}),
  });
  pool.on('error', (error) => {
    logger.warn(`${options.logName}: an idle connection failed`, { error: redactor.redact(error.message) });
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
