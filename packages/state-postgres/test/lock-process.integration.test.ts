import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, StateLockedError } from '@faucet/core';
import { createPostgresStateStore } from '@faucet/state-postgres';
import { killHard, sleep, spawnLockHolder } from '@faucet/test-support';
import { afterAll, expect, it } from 'vitest';

/** The built package: the lock holder process creates its store through it. */
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

import { describeWithPostgres, testPool } from './pg-env.js';

describeWithPostgres('state-postgres lock held by another process', (url) => {
  const table = `process_lock_${randomBytes(4).toString('hex')}`;
  const store = createPostgresStateStore({ connection_url: url, table });
  const key = 'orders::row-0';
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child) await killHard(child);
    await store.close();
    const pool = testPool(url);
    await pool.query(`drop table if exists ${table}`);
    await pool.end();
  });

  it('refuses naming the holder, and frees the lock once the holder is killed -9', async () => {
    child = await spawnLockHolder(DIST, { connection_url: url, table }, key, 1_000);

    const refused = await store.lock(key, 10_000).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(StateLockedError);
    const locked = refused as StateLockedError;
    expect(locked.code).toBe(ErrorCodes.STATE_LOCKED);
    expect(locked.key).toBe(key);
    expect(locked.message).toContain(`"${key}"`);
    expect(locked.holder).toMatch(
      new RegExp(
        `^pid ${child.pid} on \\S+ \\(PostgreSQL backend \\d+, client 127\\.0\\.0\\.1, connected since`,
      ),
    );

    // A session lock has no TTL: long past the holder's 1 s, it is still held.
    await sleep(2_000);
    await expect(store.lock(key, 10_000)).rejects.toMatchObject({ code: ErrorCodes.STATE_LOCKED });

    await killHard(child);
    // The kernel closes the dead process's socket; the server ends the session and drops its locks,
    // with no TTL to wait for (the poll only allows for the server noticing on a loaded machine).
    const deadline = Date.now() + 30_000;
    let release: (() => Promise<void>) | undefined;
    while (!release && Date.now() < deadline) {
      release = await store.lock(key, 10_000).catch(() => undefined);
      if (!release) await sleep(50);
    }
    expect(release, 'the lock of the killed process was not released').toBeDefined();
    await release?.();
  });
});
