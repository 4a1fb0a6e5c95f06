/**
 * The file state store's lock: one `<name>.lock` file per key holding who took it
 * (`{pid, hostname, run_started_at, token, ttl_ms, boot_id?, pid_ns?}`).
 *
 * A holder on this host is alive while its pid is (see lock-owner.ts); a holder on another host is
 * alive while it keeps the file's mtime fresher than the TTL. A dead, stale or unreadable lock is taken over, under a
 * short-lived `<name>.lock.break` file so that two contenders never both remove and re-create it.
 */
import { randomUUID } from 'node:crypto';
import { link, open, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import process from 'node:process';
import { StateLockedError } from '../errors.js';
import type { ReleaseLock } from '../types.js';
import { errnoCode, randomSuffix } from './fs-durable.js';
import {
  currentLockOwner,
  describeLockOwner,
  isPidAlive,
  type LockOwner,
  lockOwnerLiveness,
  markLockHeld,
  unmarkLockHeld,
} from './lock-owner.js';

interface LockRecord {
  pid: number;
  hostname: string;
  run_started_at: string;
  token: string;
  ttl_ms?: number;
  boot_id?: string;
  pid_ns?: string;
}

type SeenLock =
  | { state: 'missing' }
  | { state: 'corrupt'; raw: string; mtimeMs: number }
  | { state: 'held'; raw: string; record: LockRecord; mtimeMs: number };

/** How long lock() keeps trying while the lock file changes hands (never while a live run holds it). */
const ACQUIRE_PATIENCE_MS = 5_000;
const RETRY_DELAY_MS = 20;
/**
 * Where hard links are missing, a lock file exists empty for a moment before its content is
 * written; an unreadable lock file younger than this is given time before it counts as crashed.
 */
const UNREADABLE_GRACE_MS = 1_000;
/** A takeover holds its breaker file for milliseconds; one older than this was left by a crash. */
const BREAKER_STALE_MS = 10_000;
/** setInterval cannot wait longer than this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function parseLockRecord(raw: string): LockRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as { [field: string]: unknown };
  if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid <= 0) return undefined;
  if (typeof v.hostname !== 'string' || v.hostname === '') return undefined;
  if (typeof v.token !== 'string' || v.token === '') return undefined;
  if (typeof v.run_started_at !== 'string' || Number.isNaN(Date.parse(v.run_started_at))) return undefined;
  const record: LockRecord = {
    pid: v.pid,
    hostname: v.hostname,
    run_started_at: v.run_started_at,
    token: v.token,
  };
  if (typeof v.ttl_ms === 'number' && Number.isFinite(v.ttl_ms)) record.ttl_ms = v.ttl_ms;
  if (typeof v.boot_id === 'string') record.boot_id = v.boot_id;
  if (typeof v.pid_ns === 'string') record.pid_ns = v.pid_ns;
  return record;
}

async function readLock(lockPath: string): Promise<SeenLock> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(lockPath, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { state: 'missing' };
    throw error;
  }
  try {
    const raw = await handle.readFile('utf8');
    const { mtimeMs } = await handle.stat();
    const record = parseLockRecord(raw);
    return record ? { state: 'held', raw, record, mtimeMs } : { state: 'corrupt', raw, mtimeMs };
  } finally {
    await handle.close();
  }
}

function ownerOf(record: LockRecord): LockOwner {
  return {
    pid: record.pid,
    host: record.hostname,
    since: record.run_started_at,
    token: record.token,
    ...(record.boot_id === undefined ? {} : { bootId: record.boot_id }),
    ...(record.pid_ns === undefined ? {} : { pidNamespace: record.pid_ns }),
  };
}

async function isHolderGone(seen: SeenLock & { state: 'held' }, ttlMs: number): Promise<boolean> {
  const liveness = await lockOwnerLiveness(ownerOf(seen.record));
  if (liveness !== 'elsewhere') return liveness === 'dead';
  // Out of sight (another host): only a lock its holder stopped refreshing is dead.
  return Date.now() - seen.mtimeMs > Math.max(ttlMs, seen.record.ttl_ms ?? 0);
}

/**
 * Create `path` only if it does not exist, with its full content from the first instant. Writing
 * into a file made with O_EXCL would leave a moment where a contender reads it empty, takes it for
 * a crashed writer's and breaks a live lock; linking a complete temp file into place has no such
 * moment. File systems without hard links fall back to O_EXCL (see UNREADABLE_GRACE_MS).
 */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const temp = `${path}.${randomSuffix()}.tmp`;
  await writeFile(temp, content, { flag: 'wx' });
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
  } finally {
    await rm(temp, { force: true });
  }
  try {
    await writeFile(path, content, { flag: 'wx' });
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Remove a dead holder's lock file, if it still holds exactly `expectedRaw`. Reading and then
 * unlinking would race: between the two, another contender may have removed the dead lock and
 * created its own live one, which we would then delete. So every contender that removes a lock it
 * did not create must first hold the `<name>.lock.break` file (created exclusively); while we hold
 * it, nobody else removes the lock file, so the content we check is the content we unlink.
 * Returns false when another contender holds the breaker: wait, then look again.
 */
async function breakDeadLock(lockPath: string, expectedRaw: string): Promise<boolean> {
  const breakerPath = `${lockPath}.break`;
  const breaker = { pid: process.pid, hostname: hostname(), created_at: new Date().toISOString() };
  if (!(await createExclusive(breakerPath, `${JSON.stringify(breaker)}\n`))) {
    await clearDeadBreaker(breakerPath);
    return false;
  }
  try {
    let raw: string | undefined;
    try {
      raw = await readFile(lockPath, 'utf8');
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
    if (raw === expectedRaw) await rm(lockPath, { force: true });
    return true;
  } finally {
    await rm(breakerPath, { force: true });
  }
}

/**
 * A breaker is held for a few milliseconds; one left by a crash in that moment would block every
 * takeover of this key, so a breaker whose process is gone, or that is older than BREAKER_STALE_MS,
 * is removed. (Two contenders removing the same dead breaker at once could both go on to break the
 * lock: that needs a crash inside those milliseconds plus a race, and is accepted.)
 */
async function clearDeadBreaker(breakerPath: string): Promise<void> {
  try {
    const handle = await open(breakerPath, 'r');
    let raw: string;
    let mtimeMs: number;
    try {
      raw = await handle.readFile('utf8');
      mtimeMs = (await handle.stat()).mtimeMs;
    } finally {
      await handle.close();
    }
    let holder: { pid?: unknown; hostname?: unknown } = {};
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed === 'object' && parsed !== null) holder = parsed;
    } catch {
      // Unreadable: only its age can tell.
    }
    const deadHere =
      holder.hostname === hostname() && typeof holder.pid === 'number' && !isPidAlive(holder.pid);
    if (deadHere || Date.now() - mtimeMs > BREAKER_STALE_MS) await rm(breakerPath, { force: true });
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface FileLockOptions {
  lockPath: string;
  key: string;
  ttlMs: number;
}

/** Take the lock or throw StateLockedError naming the live holder. */
export async function acquireFileLock(options: FileLockOptions): Promise<ReleaseLock> {
  const { lockPath, key, ttlMs } = options;
  const owner = await currentLockOwner(randomUUID());
  const record: LockRecord = {
    pid: owner.pid,
    hostname: owner.host,
    run_started_at: owner.since,
    token: owner.token as string,
    ttl_ms: ttlMs,
    ...(owner.bootId === undefined ? {} : { boot_id: owner.bootId }),
    ...(owner.pidNamespace === undefined ? {} : { pid_ns: owner.pidNamespace }),
  };
  const content = `${JSON.stringify(record, null, 2)}\n`;

  const deadline = Date.now() + ACQUIRE_PATIENCE_MS;
  let lastHolder: string | undefined;
  for (;;) {
    // Registered before the file exists, so a concurrent lock() in this process never mistakes our
    // fresh file for one left by an earlier process with the same pid.
    markLockHeld(record.token);
    let created: boolean;
    try {
      created = await createExclusive(lockPath, content);
    } catch (error) {
      unmarkLockHeld(record.token);
      throw error;
    }
    if (created) return holdLock(lockPath, record.token, ttlMs);
    unmarkLockHeld(record.token);

    const seen = await readLock(lockPath);
    let wait = false;
    if (seen.state === 'held') {
      lastHolder = describeLockOwner(ownerOf(seen.record));
      if (!(await isHolderGone(seen, ttlMs))) throw new StateLockedError(key, lastHolder);
      wait = !(await breakDeadLock(lockPath, seen.raw));
    } else if (seen.state === 'corrupt') {
      // Unreadable: a crash while it was written. A very young one may still be being written.
      if (Date.now() - seen.mtimeMs < UNREADABLE_GRACE_MS) wait = true;
      else wait = !(await breakDeadLock(lockPath, seen.raw));
    }
    if (Date.now() >= deadline) {
      throw new StateLockedError(
        key,
        `${lastHolder ?? 'another run'}; the lock file kept changing while this run tried to take it`,
      );
    }
    if (wait) await sleep(RETRY_DELAY_MS);
  }
}

function holdLock(lockPath: string, token: string, ttlMs: number): ReleaseLock {
  let refreshing = false;
  // A holder on another host is judged by this mtime; touching it well within the TTL keeps a
  // long run from looking stale.
  const timer = setInterval(
    () => {
      if (refreshing) return;
      refreshing = true;
      void refresh().finally(() => {
        refreshing = false;
      });
    },
    Math.min(MAX_TIMER_MS, Math.max(1, Math.floor(ttlMs / 3))),
  );
  timer.unref();

  const refresh = async (): Promise<void> => {
    try {
      const seen = await readLock(lockPath);
      if (seen.state !== 'held' || seen.record.token !== token) {
        clearInterval(timer); // taken over or removed by hand: it is not ours to keep alive
        return;
      }
      const now = new Date();
      await utimes(lockPath, now, now);
    } catch {
      // A failed touch is retried on the next tick; the TTL allows for two misses.
    }
  };

  let released: Promise<void> | undefined;
  return () => {
    released ??= (async () => {
      clearInterval(timer);
      try {
        const seen = await readLock(lockPath);
        // Not ours any more (removed by hand and taken by another run): leave it alone.
        if (seen.state === 'held' && seen.record.token === token) await rm(lockPath, { force: true });
      } finally {
        unmarkLockHeld(token);
      }
    })();
    return released;
  };
}
