/**
 * The lock on one state key: `SET {namespace}:lock#{key} <holder JSON> NX PX <ttl>`. The value names
 * the holder (`{token, pid, host, since, ttl_ms, boot_id?, pid_ns?}`) and its random token makes it
 * unique, so release and refresh are compare-then-act Lua scripts that never touch a lock someone else
 * has taken since. A holder that dies stops refreshing, and Redis drops its lock when the TTL runs out;
 * a holder that died on this very host (its pid is gone) is taken over at once, as the file store does.
 */
import { randomUUID } from 'node:crypto';
import {
  currentLockOwner,
  describeLockOwner,
  type LockOwner,
  type Logger,
  lockOwnerLiveness,
  markLockHeld,
  type ReleaseLock,
  StateLockedError,
  unmarkLockHeld,
} from '@faucet/core';
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

/** Replace a dead holder's lock with ours, only if it still holds exactly the value we judged. */
const TAKE_OVER_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return false`;

/** A contender retries this often when the lock changed between its SET and its GET (expiry, takeover). */
const ACQUIRE_ATTEMPTS = 3;
/** setInterval cannot wait longer than this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The lock's value, as stored in Redis. */
interface LockValue {
  token: string;
  pid: number;
  host: string;
  since: string;
  ttl_ms: number;
  boot_id?: string;
  pid_ns?: string;
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

/** The holder a lock value names, or undefined when faucet did not write it. */
function ownerOf(raw: string): LockOwner | undefined {
  let value: Partial<LockValue> = {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) value = parsed;
  } catch {
    return undefined;
  }
  if (typeof value.pid !== 'number' || !Number.isInteger(value.pid) || value.pid <= 0) return undefined;
  if (typeof value.host !== 'string' || value.host === '') return undefined;
  return {
    pid: value.pid,
    host: value.host,
    since: typeof value.since === 'string' ? value.since : 'an unknown time',
    ...(typeof value.token === 'string' ? { token: value.token } : {}),
    ...(typeof value.boot_id === 'string' ? { bootId: value.boot_id } : {}),
    ...(typeof value.pid_ns === 'string' ? { pidNamespace: value.pid_ns } : {}),
  };
}

/** "pid 123 on etl-1 since 2026-03-01T12:00:00.000Z", from a lock value. */
export function describeHolder(raw: string): string {
  const owner = ownerOf(raw);
  return owner ? describeLockOwner(owner) : 'an unknown holder (the lock value was not written by faucet)';
}

/** Take the lock (or the lock of a holder that died on this host), or throw StateLockedError. */
export async function acquireRedisLock(options: RedisLockOptions): Promise<HeldRedisLock> {
  const { client, key, lockKey, call, logger } = options;
  const what = `lock of "${key}"`;
  const ttl = Math.max(1, Math.ceil(options.ttlMs));
  const owner = await currentLockOwner(randomUUID());
  const token = owner.token as string;
  const lock: LockValue = {
    token,
    pid: owner.pid,
    host: owner.host,
    since: owner.since,
    ttl_ms: ttl,
    ...(owner.bootId === undefined ? {} : { boot_id: owner.bootId }),
    ...(owner.pidNamespace === undefined ? {} : { pid_ns: owner.pidNamespace }),
  };
  const value = JSON.stringify(lock);
  // Before the SET, so that another lock() of this process never takes our fresh lock for a dead one.
  markLockHeld(token);
  try {
    for (let attempt = 1; attempt <= ACQUIRE_ATTEMPTS; attempt++) {
      const taken = await call(what, () => client.set(lockKey, value, 'PX', ttl, 'NX'));
      if (taken === 'OK') return holdRedisLock(options, value, ttl, token);
      const current = await call(what, () => client.get(lockKey));
      // ioredis re-sends a command after a reconnect; if the first SET landed but its reply was lost,
      // the lock is already ours.
      if (current === value) return holdRedisLock(options, value, ttl, token);
      if (current === null) continue; // expired between our SET and GET: try again
      const holder = ownerOf(current);
      if (holder !== undefined && (await lockOwnerLiveness(holder)) === 'dead') {
        // Its process is gone from this host: waiting for the TTL would only delay the rerun.
        const swapped = await call(what, () =>
          client.eval(TAKE_OVER_SCRIPT, 1, lockKey, current, value, String(ttl)),
        );
        if (swapped === 'OK') {
          logger.info('redis state store: took over the lock of a run that died on this host', {
            key,
            holder: describeLockOwner(holder),
          });
          return holdRedisLock(options, value, ttl, token);
        }
        continue; // taken or renewed by someone else meanwhile: look again
      }
      const remainingMs = await call(what, () => client.pttl(lockKey));
      throw new StateLockedError(
        key,
        describeHolder(current),
        remainingMs > 0 ? { expiresAt: new Date(Date.now() + remainingMs) } : {},
      );
    }
    throw new StateLockedError(
      key,
      'another run; the lock kept changing hands while this run tried to take it',
    );
  } catch (error) {
    unmarkLockHeld(token);
    throw error;
  }
}

/** A lock this store holds. */
export interface HeldRedisLock {
  /** The lock's value in Redis: puts under the lock are fenced on it. */
  readonly value: string;
  release: ReleaseLock;
  /**
   * Take the lock again after it was lost (it expired while Redis was unreachable, or a Redis
   * restart without persistence dropped it), if nobody else holds it; otherwise throw
   * StateLockedError naming the new holder.
   */
  regain(): Promise<void>;
}

function holdRedisLock(options: RedisLockOptions, value: string, ttl: number, token: string): HeldRedisLock {
  const { client, key, lockKey, logger, call } = options;
  let lost = false;
  let refreshing = false;
  let timer: NodeJS.Timeout | undefined;

  const markLost = () => {
    if (lost) return;
    lost = true;
    clearInterval(timer);
    // Expired (e.g. Redis was unreachable for longer than the TTL), dropped by a restart, or removed
    // by hand: another run may hold it now. Puts under it are refused until it is taken again.
    logger.warn('redis state store: lost the lock on a state key; another run may take it', {
      key,
      lock_key: lockKey,
    });
  };

  const refresh = async (): Promise<void> => {
    try {
      const kept = await client.eval(REFRESH_SCRIPT, 1, lockKey, value, String(ttl));
      if (kept === 0) markLost();
    } catch (error) {
      // Retried on the next tick; the TTL allows for two misses.
      logger.debug('redis state store: could not refresh a lock', {
        key,
        error: error instanceof Error ? error.name : 'Error',
      });
    }
  };

  const arm = () => {
    timer = setInterval(
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
  };
  arm();

  let released: Promise<void> | undefined;
  return {
    value,
    async regain() {
      const what = `lock of "${key}"`;
      let current: string | null = null;
      for (let attempt = 1; attempt <= ACQUIRE_ATTEMPTS && current === null; attempt++) {
        const taken = await call(what, () => client.set(lockKey, value, 'PX', ttl, 'NX'));
        current = taken === 'OK' ? value : await call(what, () => client.get(lockKey));
      }
      if (current !== value) {
        markLost();
        const remainingMs = current === null ? 0 : await call(what, () => client.pttl(lockKey));
        throw new StateLockedError(
          key,
          current === null
            ? 'another run'
            : `${describeHolder(current)}; this run lost the lock while it ran`,
          remainingMs > 0 ? { expiresAt: new Date(Date.now() + remainingMs) } : {},
        );
      }
      if (lost && released === undefined) {
        lost = false;
        arm();
        logger.info('redis state store: took a lost lock on a state key again', { key, lock_key: lockKey });
      }
    },
    release() {
      clearInterval(timer);
      unmarkLockHeld(token);
      released ??= call(`unlock of "${key}"`, () => client.eval(RELEASE_SCRIPT, 1, lockKey, value)).then(
        () => undefined,
        (error: unknown) => {
          // Let a later call try again; until then the lock expires by itself after its TTL.
          released = undefined;
          throw error;
        },
      );
      return released;
    },
  };
}
