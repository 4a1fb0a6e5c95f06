/**
 * state-redis when Redis goes away and comes back, on private redis-servers of the test's own
 * (@faucet/test-support), so they can be stopped and restarted without disturbing the shared one.
 */
import { ErrorCodes, isFaucetError, StateLockedError } from '@faucet/core';
import { createRedisStateStore } from '@faucet/state-redis';
import { freePort, type PrivateRedis, sleep, startPrivateRedis } from '@faucet/test-support';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { describeWithRedis } from './redis-env.js';

async function eventually<T>(what: string, run: () => Promise<T>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what} kept failing: ${String(error)}`);
      await sleep(100);
    }
  }
}

describeWithRedis('state-redis when Redis goes away and comes back', () => {
  const servers: PrivateRedis[] = [];
  const start = async (options: { port?: number; persistent?: boolean } = {}) => {
    const server = await startPrivateRedis(options);
    servers.push(server);
    return server;
  };
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('fails fast while no server was ever reached, and connects once one is there', async () => {
    const port = await freePort();
    const store = createRedisStateStore({ connection_url: `redis://:pw-4c1d@127.0.0.1:${port}/0` });
    try {
      const error = await store.get('k::row-0').catch((e: unknown) => e);
      expect(isFaucetError(error) && error.code).toBe(ErrorCodes.CONNECTION_FAILED);
      expect(String((error as Error).message)).toContain(`cannot reach Redis at 127.0.0.1:${port} (`);
      await start({ port });
      await store.put('k::row-0', { n: 1 });
      expect(await store.get('k::row-0')).toEqual({ n: 1 });
    } finally {
      await store.close();
    }
  });

  it('reports an outage as a retryable ConnectionError and recovers after a restart', async () => {
    const server = await start();
    const store = createRedisStateStore({ connection_url: server.url });
    try {
      await store.put('k::row-0', { n: 1 });
      await server.kill();
      const error = await store.get('k::row-0').catch((e: unknown) => e);
      expect(isFaucetError(error) && error.code).toBe(ErrorCodes.CONNECTION_FAILED);
      expect(isFaucetError(error) && error.retryable).toBe(true);
      expect(String((error as Error).message)).toContain(`127.0.0.1:${server.port}`);
      await server.start();
      // No persistence on this server: the value is gone, but the same store works again.
      await eventually('put after the restart', () => store.put('k::row-0', { n: 2 }));
      expect(await store.get('k::row-0')).toEqual({ n: 2 });
    } finally {
      await store.close();
    }
  });

  it('takes a lock a restart dropped again before the next put, and refuses the put when another run took it', async () => {
    const server = await start();
    const raw = new Redis(server.url, { maxRetriesPerRequest: 1 });
    raw.on('error', () => {});
    const holder = createRedisStateStore({ connection_url: server.url, namespace: 'r' });
    const other = createRedisStateStore({ connection_url: server.url, namespace: 'r' });
    const lockKey = 'r:lock#job::row-0';
    try {
      await holder.lock('job::row-0', 60_000);
      await holder.put('job::row-0', { n: 1 });
      const value = await raw.get(lockKey);

      // A restart without persistence drops the lock: the next put takes it again, then writes.
      await server.kill();
      await server.start();
      await eventually('put after the restart', () => holder.put('job::row-0::p1', { n: 2 }));
      expect(await raw.get(lockKey)).toBe(value);
      expect(await raw.get('r:job::row-0::p1')).toBe('{"n":2}');

      // Again, but another run takes the lock first: the holder's writes are refused.
      await server.kill();
      await server.start();
      const release = await eventually('lock after the restart', () => other.lock('job::row-0', 60_000));
      const put = await holder.put('job::row-0', { n: 3 }).catch((e: unknown) => e);
      expect(put).toBeInstanceOf(StateLockedError);
      expect((put as StateLockedError).message).toContain('this run lost the lock while it ran');
      const del = await holder.delete('job::row-0').catch((e: unknown) => e);
      expect(del).toBeInstanceOf(StateLockedError);
      expect(await raw.get('r:job::row-0')).toBeNull();
      await other.put('job::row-0', { n: 4 });
      expect(await other.get('job::row-0')).toEqual({ n: 4 });
      await release();
    } finally {
      await Promise.all([holder.close(), other.close()]);
      raw.disconnect();
    }
  });
});
