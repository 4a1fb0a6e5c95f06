import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileStateStore, StateLockedError, type StateStore } from '../src/index.js';

const KEY = 'orders::row-0';
const LOCK_FILE = 'orders%3A%3Arow-0.json.lock';

let root: string;
let store: StateStore;
const children: ChildProcess[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'faucet-state-lock-'));
  store = createFileStateStore({ path: root });
});
afterEach(async () => {
  await store.close?.();
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

function lockOf(
  store: StateStore,
): (key: string, ttlMs: number) => ReturnType<NonNullable<StateStore['lock']>> {
  const lock = store.lock;
  if (!lock) throw new Error('the file store must offer lock()');
  return lock.bind(store);
}

async function writeLockFile(fields: {
  pid: number;
  hostname?: string;
  run_started_at?: string;
  pid_ns?: string;
}) {
  const record = {
    pid: fields.pid,
    hostname: fields.hostname ?? hostname(),
    run_started_at: fields.run_started_at ?? new Date().toISOString(),
    token: randomUUID(),
    ...(fields.pid_ns === undefined ? {} : { pid_ns: fields.pid_ns }),
  };
  await writeFile(join(root, LOCK_FILE), JSON.stringify(record));
  return record;
}

async function readLockFile(): Promise<{ pid: number; hostname: string; token: string }> {
  return JSON.parse(await readFile(join(root, LOCK_FILE), 'utf8')) as {
    pid: number;
    hostname: string;
    token: string;
  };
}

/** A child node process that stays alive until killed. */
async function spawnSleeper(): Promise<ChildProcess & { pid: number }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  if (child.pid === undefined) throw new Error('the child process has no pid');
  return child as ChildProcess & { pid: number };
}

/** The pid of a process that has exited (and been reaped), so nothing runs under it any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid;
  await new Promise((resolve) => child.once('exit', resolve));
  if (pid === undefined) throw new Error('the child process has no pid');
  return pid;
}

async function lockError(promise: Promise<unknown>): Promise<StateLockedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StateLockedError);
  expect(error).toMatchObject({ code: 'STATE_LOCKED' });
  return error as StateLockedError;
}

describe('file state store locks', () => {
  it('refuses a second lock on a held key, naming the key and the holder, until released', async () => {
    const lock = lockOf(store);
    const release = await lock(KEY, 60_000);
    const holder = await readLockFile();
    expect(holder).toMatchObject({ pid: process.pid, hostname: hostname() });

    // Another store instance (another run in this process) on the same directory.
    const otherRun = lockOf(createFileStateStore({ path: root }));
    const error = await lockError(otherRun(KEY, 60_000));
    expect(error.key).toBe(KEY);
    expect(error.message).toContain(`"${KEY}"`);
    expect(error.message).toContain(`pid ${process.pid} on ${hostname()} since `);
    await lockError(lock(KEY, 60_000));

    // Other keys are independent.
    const otherKey = await otherRun('orders::row-1', 60_000);
    await otherKey();

    await release();
    expect(await readdir(root)).toEqual([]);
    const again = await otherRun(KEY, 60_000);
    await again();
  });

  it('releases safely twice, and never removes a lock that is no longer its own', async () => {
    const lock = lockOf(store);
    const release = await lock(KEY, 60_000);
    await release();
    await release();
    expect(await readdir(root)).toEqual([]);

    const second = await lock(KEY, 60_000);
    // Someone cleared the lock by hand and another run took it: releasing ours must not free theirs.
    const sleeper = await spawnSleeper();
    const theirs = await writeLockFile({ pid: sleeper.pid });
    await second();
    expect(await readLockFile()).toMatchObject({ token: theirs.token });
  });

  it('takes over a lock left by a process that has died', async () => {
    const pid = await deadPid();
    await writeLockFile({ pid });
    const release = await lockOf(store)(KEY, 60_000);
    expect(await readLockFile()).toMatchObject({ pid: process.pid });
    await release();
    expect(await readdir(root)).toEqual([]);
  });

  it('takes over a corrupt or empty lock file (a crash while it was written)', async () => {
    const old = new Date(Date.now() - 60_000);
    for (const content of ['{"pid": 12', '{"pid": "x"}', '[]', '']) {
      await writeFile(join(root, LOCK_FILE), content);
      // The last one is brand new: it gets a moment in case it is still being written, then goes.
      if (content !== '') await utimes(join(root, LOCK_FILE), old, old);
      const release = await lockOf(store)(KEY, 60_000);
      expect(await readLockFile()).toMatchObject({ pid: process.pid });
      await release();
    }
  });

  it('is not blocked by a takeover that crashed half-way (a leftover .break file)', async () => {
    const breaker = join(root, `${LOCK_FILE}.break`);
    const pid = await deadPid();
    // Left by a contender on this host that died while taking over.
    await writeLockFile({ pid });
    await writeFile(
      breaker,
      JSON.stringify({ pid, hostname: hostname(), created_at: new Date().toISOString() }),
    );
    const first = await lockOf(store)(KEY, 60_000);
    await first();
    // Left by a contender on another host, long ago.
    await writeLockFile({ pid });
    await writeFile(breaker, JSON.stringify({ pid: 1, hostname: `not-${hostname()}` }));
    const old = new Date(Date.now() - 60_000);
    await utimes(breaker, old, old);
    const second = await lockOf(store)(KEY, 60_000);
    await second();
    expect(await readdir(root)).toEqual([]);
  });

  it('refuses a lock held by another live process on this host', async () => {
    const sleeper = await spawnSleeper();
    const record = await writeLockFile({ pid: sleeper.pid });
    const error = await lockError(lockOf(store)(KEY, 60_000));
    expect(error.message).toContain(`"${KEY}"`);
    expect(error.holder).toBe(`pid ${sleeper.pid} on ${hostname()} since ${record.run_started_at}`);
    // The holder's lock is untouched.
    expect(await readLockFile()).toMatchObject({ token: record.token });
  });

  it('takes over a lock with our pid from before this process started (restarted container)', async () => {
    const earlier = new Date(Date.now() - process.uptime() * 1000 - 60_000).toISOString();
    await writeLockFile({ pid: process.pid, run_started_at: earlier });
    const release = await lockOf(store)(KEY, 60_000);
    await release();
  });

  it.runIf(process.platform === 'linux')(
    'treats a holder in another pid namespace (a container with our host name) like one on another host',
    async () => {
      const pid = await deadPid();
      const record = await writeLockFile({ pid, pid_ns: 'pid:[1]' });
      const error = await lockError(lockOf(store)(KEY, 60_000));
      expect(error.holder).toBe(`pid ${pid} on ${hostname()} since ${record.run_started_at}`);
      const old = new Date(Date.now() - 120_000);
      await utimes(join(root, LOCK_FILE), old, old);
      const release = await lockOf(store)(KEY, 60_000);
      const mine = (await readLockFile()) as { pid_ns?: string };
      expect(mine.pid_ns).toMatch(/^pid:\[\d+\]$/);
      await release();
    },
  );

  it('treats a holder on another host as alive until its lock goes stale', async () => {
    const record = await writeLockFile({ pid: 4242, hostname: `not-${hostname()}` });
    const error = await lockError(lockOf(store)(KEY, 60_000));
    expect(error.holder).toBe(`pid 4242 on not-${hostname()} since ${record.run_started_at}`);

    // Not refreshed for longer than the TTL: that host's run is gone.
    const old = new Date(Date.now() - 120_000);
    await utimes(join(root, LOCK_FILE), old, old);
    const release = await lockOf(store)(KEY, 60_000);
    expect(await readLockFile()).toMatchObject({ pid: process.pid, hostname: hostname() });
    await release();
  });

  it('keeps a held lock fresh so other hosts do not take it for stale', async () => {
    const release = await lockOf(store)(KEY, 300);
    const path = join(root, LOCK_FILE);
    const old = new Date(Date.now() - 3_600_000);
    await utimes(path, old, old);
    await new Promise((resolve) => setTimeout(resolve, 450));
    // The heartbeat moved the hour-old mtime forward.
    expect((await stat(path)).mtimeMs).toBeGreaterThan(old.getTime() + 3_000_000);
    await release();
  });

  it('lets exactly one of many concurrent contenders win, also when taking over a dead lock', async () => {
    const dead = await deadPid();
    for (let round = 0; round < 10; round++) {
      // Even rounds start from a free key, odd rounds from a lock left by a dead process.
      if (round % 2 === 1) await writeLockFile({ pid: dead });
      const stores = Array.from({ length: 8 }, () => createFileStateStore({ path: root }));
      // Staggered, so some contenders look at the dead lock while others are already replacing it.
      const results = await Promise.allSettled(
        stores.map(async (s, i) => {
          await new Promise((resolve) => setTimeout(resolve, i % 4));
          return lockOf(s)(KEY, 60_000);
        }),
      );
      const winners = results.filter((r) => r.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(StateLockedError);
      }
      await (winners[0] as PromiseFulfilledResult<() => Promise<void>>).value();
      expect(await readdir(root)).toEqual([]);
    }
  });

  it('releases its locks on close', async () => {
    await lockOf(store)(KEY, 60_000);
    await store.close?.();
    expect(await readdir(root)).toEqual([]);
  });
});
