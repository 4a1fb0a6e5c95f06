/**
 * The lock on one state key: `SET {namespace}:lock#{key} <holder JSON> NX PX <ttl>`. The value names
 * the holder (`{token, pid, host, since, ttl_ms}`) and its random token makes it unique, so release
 * and refresh are compare-then-act Lua scripts that never touch a lock someone else has taken since.
 * A holder that dies stops refreshing, and Redis drops its lock when the TTL runs out.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import process from 'node:process';
import { type Logger, type ReleaseLock, StateLockedError } from '@faucet/core';
import type { Redis } from 'ioredis';

/** Delete the lock only if it still holds our value (and so our token). */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** Push the expiry back only if the lock is still ours. */
const REFRESH_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

/** A contender retries this often when the lock vanished between its SET and its GET (expiry). */
const ACQUIRE_ATTEMPTS = 3;
/** setInterval cannot wait longer than this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface LockHolder {
  token: string;
  pid: number;
  host: string;
  since: string;
  ttl_ms: number;
}

export interface RedisLockOptions {
  client: Redis;
  /** The state key, for messages. */
  key: string;
  /** The Redis key holding the lock. */
  lockKey: string;
  ttlMs: number;
  refreshMs: number;
  logger: Logger;
  /** Runs a client call, turning its failure into a FaucetError naming the operation. */
  call: <T>(what: string, run: () => Promise<T>) => Promise<T>;
}

/** "pid 123 on etl-1 since 2026-03-01T12:00:00.000Z", from a lock value. */
export function describeHolder(raw: string): string {
  let holder: Partial<LockHolder> = {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) holder = parsed;
  } catch {
    // Not written by faucet.
  }
  if (typeof holder.pid !== 'number' || typeof holder.host !== 'string') {
    return 'an unknown holder (the lock value was not written by faucet)';
  }
  const since = typeof holder.since === 'string' ? ` since ${holder.since}` : '';
  const self = holder.pid === process.pid && holder.host === hostname() ? ' (this process)' : '';
  return `pid ${holder.pid} on ${holder.host}${since}${self}`;
}

/** Take the lock, or throw StateLockedError naming the holder. */
export async function acquireRedisLock(options: RedisLockOptions): Promise<ReleaseLock> {
  const { client, key, lockKey, call } = options;
  const ttl = Math.max(1, Math.ceil(options.ttlMs));
  const holder: LockHolder = {
    token: randomUUID(),
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    ttl_ms: ttl,
  };
  const value = JSON.stringify(holder);
  for (let attempt = 1; attempt <= ACQUIRE_ATTEMPTS; attempt++) {
    const taken = await call(`lock of "${key}"`, () => client.set(lockKey, value, 'PX', ttl, 'NX'));
    if (taken === 'OK') return holdRedisLock(options, value, ttl);
    const current = await call(`lock of "${key}"`, () => client.get(lockKey));
    // ioredis re-sends a command after a reconnect; if the first SET landed but its reply was lost,
    // the lock is already ours.
    if (current === value) return holdRedisLock(options, value, ttl);
    if (current !== null) throw new StateLockedError(key, describeHolder(current));
    // Expired between our SET and GET: try again.
  }
  throw new StateLockedError(
    key,
    'another run; the lock kept changing hands while this run tried to take it',
  );
}

function holdRedisLock(options: RedisLockOptions, value: string, ttl: number): ReleaseLock {
  const { client, key, lockKey, logger, call } = options;
  let lost = false;
  let refreshing = false;

  const refresh = async (): Promise<void> => {
    try {
      const kept = await client.eval(REFRESH_SCRIPT, 1, lockKey, value, String(ttl));
      if (kept === 0 && !lost) {
        lost = true;
        clearInterval(timer);
        // Expired (e.g. Redis was unreachable for longer than the TTL) or removed by hand: another run
        // may hold it now. Nothing here can stop this run, but the operator must hear of it.
        logger.warn('redis state store: lost the lock on a state key; another run may take it', {
          key,
          lock_key: lockKey,
        });
      }
    } catch (error) {
      // Retried on the next tick; the TTL allows for two misses.
      logger.debug('redis state store: could not refresh a lock', {
        key,
        error: error instanceof Error ? error.name : 'Error',
      });
    }
  };

  const timer = setInterval(
    () => {
      if (refreshing) return;
      refreshing = true;
      void refresh().finally(() => {
        refreshing = false;
      });
    },
    Math.min(MAX_TIMER_MS, options.refreshMs),
  );
  // A held lock must not keep the process alive on its own.
  timer.unref();

  let released: Promise<void> | undefined;
  return () => {
    clearInterval(timer);
    released ??= call(`unlock of "${key}"`, () => client.eval(RELEASE_SCRIPT, 1, lockKey, value)).then(
      () => undefined,
      (error: unknown) => {
        // Let a later call try again; until then the lock expires by itself after its TTL.
        released = undefined;
        throw error;
      },
    );
    return released;
  };
}
