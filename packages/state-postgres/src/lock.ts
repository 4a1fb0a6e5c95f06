/**
 * The lock on one state key: a session-level advisory lock, `pg_try_advisory_lock(hashtextextended(
 * '<table>:<key>', 0))`, taken on a connection checked out of the pool and kept for as long as the lock
 * is held. PostgreSQL ties the lock to that session, so it needs no TTL or refresh: when the holder's
 * process or connection dies, the server ends the session and the lock goes with it.
 */
import { hostname } from 'node:os';
import process from 'node:process';
import { type Logger, type ReleaseLock, StateLockedError } from '@faucet/core';
import type { Pool, PoolClient } from 'pg';

/** A contender retries this often when the holder let go between our try and our look at pg_locks. */
const ACQUIRE_ATTEMPTS = 3;

const TRY_LOCK = 'select pg_try_advisory_lock(hashtextextended($1, 0)) as locked';
const UNLOCK = 'select pg_advisory_unlock(hashtextextended($1, 0)) as unlocked';
/**
 * Who holds the advisory lock on a bigint key: pg_locks splits the key into classid (high 32 bits)
 * and objid (low 32 bits), with objsubid 1 for the one-bigint form.
 */
const HOLDER = `
select a.pid, a.application_name, host(a.client_addr) as client_addr, a.backend_start
  from pg_locks l
  join pg_stat_activity a on a.pid = l.pid
 where l.locktype = 'advisory' and l.granted and l.objsubid = 1
   and l.database = (select oid from pg_database where datname = current_database())
   and ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0)
 limit 1`;

interface HolderRow {
  pid: number;
  application_name: string | null;
  client_addr: string | null;
  backend_start: Date | null;
}

/** `faucet:<pid>@<host>`, the application_name of every connection this package opens (≤ 63 bytes). */
export function applicationName(): string {
  return `faucet:${process.pid}@${hostname()}`.slice(0, 63);
}

/** "pid 123 on etl-1 (PostgreSQL backend 4567, client 10.0.0.5, connected since …)". */
export function describeHolder(row: HolderRow): string {
  const details = [`PostgreSQL backend ${row.pid}`];
  if (row.client_addr) details.push(`client ${row.client_addr}`);
  if (row.backend_start) details.push(`connected since ${row.backend_start.toISOString()}`);
  const faucet = /^faucet:(\d+)@(.+)$/.exec(row.application_name ?? '');
  if (faucet) {
    const [, pid, host] = faucet;
    const self =
      Number(pid) === process.pid && host === applicationName().split('@')[1] ? ', this process' : '';
    return `pid ${pid} on ${host} (${details.join(', ')}${self})`;
  }
  const app = row.application_name ? ` "${row.application_name}"` : '';
  return `the session${app} (${details.join(', ')})`;
}

export interface PostgresLockOptions {
  pool: Pool;
  /** The state key, for messages. */
  key: string;
  /** The text whose hash is the lock id: `<table>:<key>`. */
  lockName: string;
  logger: Logger;
  /** Runs a client call, turning its failure into a FaucetError naming the operation. */
  call: <T>(what: string, run: () => Promise<T>) => Promise<T>;
}

/** A lock this store holds. */
export interface HeldPostgresLock {
  release: ReleaseLock;
  /**
   * After the lock's connection was lost (a server restart, a failover), the lock went with its
   * session: take it again on a new connection if nobody else has, else throw StateLockedError
   * naming the run that took it. A no-op while the lock's connection is fine.
   */
  ensureHeld(): Promise<void>;
}

/** One session holding the lock. */
interface LockSession {
  lost(): Error | undefined;
  /** Give back a session whose connection broke (closing it; the lock went with it). */
  discard(): void;
  unlock(): Promise<void>;
}

/** Take the lock, or throw StateLockedError naming the holder. */
export async function acquirePostgresLock(options: PostgresLockOptions): Promise<HeldPostgresLock> {
  const { key, logger } = options;
  let session = await lockSession(options);
  let regaining: Promise<void> | undefined;
  let released: Promise<void> | undefined;
  const regain = async (): Promise<void> => {
    session.discard();
    try {
      session = await lockSession(options);
    } catch (error) {
      if (!(error instanceof StateLockedError)) throw error;
      throw new StateLockedError(
        key,
        `${error.holder ?? 'another run'}; this run lost the lock while it ran (its connection to the server broke)`,
      );
    }
    logger.info('postgres state store: took a state lock again after its connection was lost', { key });
  };
  return {
    ensureHeld() {
      if (released !== undefined || session.lost() === undefined) return Promise.resolve();
      regaining ??= regain().finally(() => {
        regaining = undefined;
      });
      return regaining;
    },
    release() {
      released ??= session.unlock().catch((error: unknown) => {
        // The session was closed instead, which freed the lock: a second release has nothing to do.
        released = Promise.resolve();
        throw error;
      });
      return released;
    },
  };
}

async function lockSession(options: PostgresLockOptions): Promise<LockSession> {
  const { pool, key, lockName, call } = options;
  const what = `locking "${key}"`;
  const client = await call(what, () => pool.connect());
  // Checked-out clients have no error listener in pg-pool: a connection lost while the lock is held
  // would otherwise crash the process.
  let lost: Error | undefined;
  const onError = (error: Error) => {
    // A broken connection reports twice (the server's FATAL, then the closed socket): warn once.
    if (lost !== undefined) return;
    lost = error;
    options.logger.warn('postgres state store: lost the connection holding a state lock; the lock is gone', {
      key,
    });
  };
  client.on('error', onError);
  let given = false;
  const giveBack = (destroy: boolean) => {
    if (given) return;
    given = true;
    client.removeListener('error', onError);
    client.release(destroy || lost !== undefined);
  };
  try {
    for (let attempt = 1; attempt <= ACQUIRE_ATTEMPTS; attempt++) {
      const { rows } = await call(what, () => client.query<{ locked: boolean }>(TRY_LOCK, [lockName]));
      if (rows[0]?.locked === true) {
        return {
          lost: () => lost,
          discard: () => giveBack(true),
          unlock: () => unlock(options, client, giveBack, () => lost),
        };
      }
      const holder = await call(what, () => client.query<HolderRow>(HOLDER, [lockName]));
      const row = holder.rows[0];
      if (row) throw new StateLockedError(key, describeHolder(row));
      // Released between our try and our look: try again.
    }
    throw new StateLockedError(
      key,
      'another run; the lock kept changing hands while this run tried to take it',
    );
  } catch (error) {
    // Refused: the session is fine and goes back to the pool. Anything else: it may be broken.
    giveBack(!(error instanceof StateLockedError));
    throw error;
  }
}

async function unlock(
  options: PostgresLockOptions,
  client: PoolClient,
  giveBack: (destroy: boolean) => void,
  lost: () => Error | undefined,
): Promise<void> {
  const { key, lockName, call } = options;
  if (lost() !== undefined) {
    giveBack(true); // the session, and with it the lock, is already gone
    return;
  }
  try {
    await call(`unlocking "${key}"`, () => client.query(UNLOCK, [lockName]));
  } catch (error) {
    // A session that may still hold the lock must never go back to the pool: closing it frees the lock.
    giveBack(true);
    throw error;
  }
  giveBack(false);
}
