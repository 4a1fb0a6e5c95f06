import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, StateLockedError } from '@faucet/core';
import { createRedisStateStore } from '@faucet/state-redis';
import { killHard, spawnLockHolder } from '@faucet/test-support';
import { afterAll, expect, it } from 'vitest';

/** fixtures/hold-lock.mjs takes a lock with the store built in ../dist and prints `locked`. */
const HOLDER = fileURLToPath(new URL('./fixtures/hold-lock.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

import { describeWithRedis, dropNamespace } from './redis-env.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithRedis('state-redis lock held by another process', (url) => {
  const namespace = `process-lock-${randomBytes(4).toString('hex')}`;
  const store = createRedisStateStore({ connection_url: url, namespace });
  const key = 'orders::row-0';
  const ttlMs = 1_500;
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child) await killHard(child);
    await store.close();
    await dropNamespace(url, namespace);
  });

  it('fails fast naming the holder, holds past the TTL, and frees the lock after kill -9', async () => {
    child = await spawnLockHolder(HOLDER, DIST, [url, namespace, key, String(ttlMs)]);

    const started = performance.now();
    const refused = await store.lock(key, 10_000).then(
      () => undefined,
      (error: unknown) => error,
    );
    const waited = performance.now() - started;
    expect(refused).toBeInstanceOf(StateLockedError);
    const locked = refused as StateLockedError;
    expect(locked.code).toBe(ErrorCodes.STATE_LOCKED);
    expect(locked.key).toBe(key);
    expect(locked.message).toContain(`"${key}"`);
    expect(locked.holder).toMatch(new RegExp(`^pid ${child.pid} on \\S+ since \\d{4}-`));
    expect(waited).toBeLessThan(1_000);

    // The holder keeps refreshing its lock, so it outlives its TTL.
    await sleep(ttlMs * 2);
    await expect(store.lock(key, 10_000)).rejects.toMatchObject({ code: ErrorCodes.STATE_LOCKED });

    await killHard(child);
    const killedAt = performance.now();
    // Right after the kill the lock is still there: at most a third of the TTL has passed since its refresh.
    await expect(store.lock(key, 10_000)).rejects.toMatchObject({ code: ErrorCodes.STATE_LOCKED });
    let release: (() => Promise<void>) | undefined;
    while (!release && performance.now() - killedAt < ttlMs + 2_000) {
      release = await store.lock(key, 10_000).catch(() => undefined);
      if (!release) await sleep(100);
    }
    expect(release, 'the lock of the killed process never expired').toBeDefined();
    expect(performance.now() - killedAt).toBeLessThanOrEqual(ttlMs + 2_000);
    await release?.();
  });
});
