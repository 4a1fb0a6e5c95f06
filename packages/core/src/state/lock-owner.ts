/**
 * Who holds a state lock, and whether that holder is known to be dead. The file store's lock and the
 * locks of other backends that record their holder (state-redis) judge a holder the same way:
 *
 * - A holder on this machine is alive while its pid is. "This machine" means the same host name, the
 *   same boot (Linux `boot_id`: a lock from before a reboot is dead even if its pid was reused) and
 *   the same pid namespace (two containers that share a host name cannot see each other's pids).
 * - A holder elsewhere cannot be seen from here: its lock lives until the holder stops renewing it
 *   and its TTL runs out.
 */
import { readFile, readlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import process from 'node:process';

/** What a lock records about its holder. */
export interface LockOwner {
  pid: number;
  host: string;
  /** When the holder took the lock (ISO 8601). */
  since: string;
  /** The lock's random token: tells two holders with the same pid apart. */
  token?: string;
  /** Linux's id of the holder's boot. */
  bootId?: string;
  /** The holder's pid namespace (`pid:[4026531836]` on Linux). */
  pidNamespace?: string;
}

/**
 * `alive`: the holder runs on this machine. `dead`: it ran on this machine and its process is gone.
 * `elsewhere`: it runs (or ran) where this process cannot look; only its lock's TTL can tell.
 */
export type LockOwnerLiveness = 'alive' | 'dead' | 'elsewhere';

/**
 * Tokens of locks held anywhere in this process, shared across duplicated copies of @faucet/core,
 * so a lock carrying our own pid can be told apart from one left by an earlier process that had the
 * same pid (pid 1 in a restarted container).
 */
const HELD_TOKENS = Symbol.for('faucet.state.file.held-lock-tokens');
function heldTokens(): Set<string> {
  const registry = globalThis as { [HELD_TOKENS]?: Set<string> };
  registry[HELD_TOKENS] ??= new Set<string>();
  return registry[HELD_TOKENS];
}

/**
 * Record that this process holds (or is about to take) the lock with this token. Register before the
 * lock exists, so that a concurrent look from this process never takes it for a dead holder's.
 */
export function markLockHeld(token: string): void {
  heldTokens().add(token);
}

/** The lock with this token is no longer held by this process. */
export function unmarkLockHeld(token: string): void {
  heldTokens().delete(token);
}

let bootIdPromise: Promise<string | undefined> | undefined;
function currentBootId(): Promise<string | undefined> {
  bootIdPromise ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
    (text) => text.trim() || undefined,
    () => undefined,
  );
  return bootIdPromise;
}

let pidNamespacePromise: Promise<string | undefined> | undefined;
function currentPidNamespace(): Promise<string | undefined> {
  pidNamespacePromise ??= readlink('/proc/self/ns/pid').then(
    (link) => link || undefined,
    () => undefined,
  );
  return pidNamespacePromise;
}

/** This process as a lock owner, taking a lock now with `token`. */
export async function currentLockOwner(token: string): Promise<LockOwner> {
  const [bootId, pidNamespace] = await Promise.all([currentBootId(), currentPidNamespace()]);
  return {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    token,
    ...(bootId === undefined ? {} : { bootId }),
    ...(pidNamespace === undefined ? {} : { pidNamespace }),
  };
}

/** Whether a process with this pid runs (on this machine, in this pid namespace). */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user. Only ESRCH proves it is gone.
    return (error as { code?: unknown } | null)?.code !== 'ESRCH';
  }
}

/** Whether the holder of a lock is alive, dead, or out of sight (see {@link LockOwnerLiveness}). */
export async function lockOwnerLiveness(owner: LockOwner): Promise<LockOwnerLiveness> {
  if (owner.host !== hostname()) return 'elsewhere';
  const [bootId, pidNamespace] = await Promise.all([currentBootId(), currentPidNamespace()]);
  // Booted since: every process of that boot is gone, whatever now runs under its pid.
  if (bootId !== undefined && owner.bootId !== undefined && owner.bootId !== bootId) return 'dead';
  // Another container with our host name: its pids mean nothing here.
  if (pidNamespace !== undefined && owner.pidNamespace !== undefined && owner.pidNamespace !== pidNamespace) {
    return 'elsewhere';
  }
  if (owner.pid === process.pid) {
    if (owner.token !== undefined && heldTokens().has(owner.token)) return 'alive';
    // Our pid, but taken before this process started: an earlier process that had the same pid.
    // Taken after: another copy of faucet in this process, which we cannot see, so it counts as alive.
    const processStartedAt = Date.now() - process.uptime() * 1000;
    return Date.parse(owner.since) < processStartedAt ? 'dead' : 'alive';
  }
  return isPidAlive(owner.pid) ? 'alive' : 'dead';
}

/** "pid 123 on etl-1 since 2026-03-01T12:00:00.000Z", with " (this process)" when it is us. */
export function describeLockOwner(owner: Pick<LockOwner, 'pid' | 'host' | 'since'>): string {
  const self = owner.host === hostname() && owner.pid === process.pid ? ' (this process)' : '';
  return `pid ${owner.pid} on ${owner.host} since ${owner.since}${self}`;
}
