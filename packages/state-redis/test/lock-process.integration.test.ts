import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, runPipeline, type Sink, StateLockedError } from '@faucet/core';
import { createRedisStateStore } from '@faucet/state-redis';
import { killHard, sleep, spawnLockHolder } from '@faucet/test-support';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { describeWithRedis, dropNamespace } from './redis-env.js';

/** The built package: the lock holder process creates its store through it. */
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));
/** The engine's default lock TTL: a rerun that waited for it would outlast this file's timeout. */
const TTL_MS = 60_000;

async function refusal(promise: Promise<unknown>): Promise<StateLockedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StateLockedError);
  return error as StateLockedError;
}

describeWithRedis('state-redis lock held by another process', (url) => {
  const namespace = `process-lock-${randomBytes(4).toString('hex')}`;
  const store = createRedisStateStore({ connection_url: url, namespace });
  const raw = new Redis(url);
  const children: ChildProcess[] = [];

  afterAll(async () => {
    await Promise.all(children.map(killHard));
    await store.close();
    await raw.quit();
    await dropNamespace(url, namespace);
  });

  it('refuses a live holder naming it and when its lock expires; holds past its TTL', async () => {
    const key = 'live::row-0';
    const ttl = 3_000;
    const child = await spawnLockHolder(DIST, { connection_url: url, namespace }, key, ttl);
    children.push(child);
    const locked = await refusal(store.lock(key, TTL_MS));
    expect(locked.code).toBe(ErrorCodes.STATE_LOCKED);
    expect(locked.key).toBe(key);
    expect(locked.message).toContain(`"${key}"`);
    expect(locked.holder).toMatch(new RegExp(`^pid ${child.pid} on \\S+ since \\d{4}-`));
    expect(locked.expiresAt).toBeInstanceOf(Date);
    expect(locked.message).toContain(`lock expires by itself at ${locked.expiresAt?.toISOString()}`);

    // The holder keeps refreshing its lock (every TTL/3), so it outlives its TTL; its pid is alive,
    // so it is kept.
    await sleep(ttl * 2);
    await refusal(store.lock(key, TTL_MS));
    await killHard(child);
  });

  it('takes the lock over at once when its holder on this host was killed -9', async () => {
    const key = 'killed::row-0';
    const child = await spawnLockHolder(DIST, { connection_url: url, namespace }, key, TTL_MS);
    children.push(child);
    await refusal(store.lock(key, TTL_MS));
    const before = JSON.parse((await raw.get(`${namespace}:lock#${key}`)) ?? 'null') as { pid?: number };
    expect(before.pid).toBe(child.pid);

    await killHard(child);
    // The dead holder's lock still has most of its minute to live, yet one lock() call takes it.
    expect(await raw.pttl(`${namespace}:lock#${key}`)).toBeGreaterThan(10_000);
    const release = await store.lock(key, TTL_MS);
    const after = JSON.parse((await raw.get(`${namespace}:lock#${key}`)) ?? 'null') as { pid?: number };
    expect(after.pid).toBe(process.pid);
    await release();
    expect(await raw.exists(`${namespace}:lock#${key}`)).toBe(0);
  });

  it('a rerun through the engine starts at once after its predecessor was killed -9', async () => {
    const key = 'rerun::row-0';
    const child = await spawnLockHolder(DIST, { connection_url: url, namespace }, key, TTL_MS);
    children.push(child);
    await killHard(child);
    const written: unknown[] = [];
    const sink: Sink = {
      async write(records) {
        written.push(...records);
      },
    };
    const result = await runPipeline({
      pipeline: 'rerun',
      row: 'row-0',
      retry: false,
      lockTtlMs: TTL_MS,
      state: store,
      sink,
      source: {
        async *read() {
          yield { records: [{ id: 1 }], bookmark: { i: 1 } };
        },
      },
    });
    expect(result.error?.message).toBeUndefined();
    expect(result.status).toBe('ok');
    expect(written).toEqual([{ id: 1 }]);
  });

  it('keeps the TTL for a holder on another host, and for one it cannot judge', async () => {
    const dead = await spawnExited();
    for (const [key, value] of [
      [
        'other-host::row-0',
        { token: 't1', pid: dead, host: `not-${hostname()}`, since: 'x', ttl_ms: TTL_MS },
      ],
      ['foreign::row-0', 'written by another tool'],
    ] as const) {
      await raw.set(`${namespace}:lock#${key}`, JSON.stringify(value), 'PX', TTL_MS);
      const locked = await refusal(store.lock(key, TTL_MS));
      expect(locked.expiresAt).toBeInstanceOf(Date);
      expect(locked.message).toContain('lock expires by itself at');
      expect(await raw.get(`${namespace}:lock#${key}`)).toBe(JSON.stringify(value));
    }
  });

  it('takes over a lock whose holder on this host is gone, even when it was never killed by us', async () => {
    const key = 'exited::row-0';
    const pid = await spawnExited();
    const value = { token: 't2', pid, host: hostname(), since: new Date().toISOString(), ttl_ms: TTL_MS };
    await raw.set(`${namespace}:lock#${key}`, JSON.stringify(value), 'PX', TTL_MS);
    const release = await store.lock(key, TTL_MS);
    await release();
  });
});

/** The pid of a process that has exited (and is not running any more). */
async function spawnExited(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}
