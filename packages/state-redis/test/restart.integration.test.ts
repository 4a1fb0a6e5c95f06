/**
 * A Redis of the test's own (the redis-server binary that scripts/services.sh installs), so it can be
 * stopped and started without disturbing the shared one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, isFaucetError } from '@faucet/core';
import { createRedisStateStore } from '@faucet/state-redis';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { describeWithRedis } from './redis-env.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir],
    {
      stdio: 'ignore',
    },
  );
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => {});
  try {
    for (let i = 0; i < 100; i++) {
      if (
        await probe.connect().then(
          () => probe.ping(),
          () => undefined,
        )
      )
        return child;
      await sleep(50);
    }
  } finally {
    probe.disconnect();
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${port}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

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
  const dir = mkdtempSync(join(tmpdir(), 'faucet-state-redis-'));
  const servers: ChildProcess[] = [];
  afterAll(async () => {
    await Promise.all(servers.map(stop));
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails fast while no server was ever reached, and connects once one is there', async () => {
    const port = await freePort();
    const store = createRedisStateStore({ connection_url: `redis://:pw-4c1d@127.0.0.1:${port}/0` });
    try {
      const started = Date.now();
      const error = await store.get('k::row-0').catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(isFaucetError(error) && error.code).toBe(ErrorCodes.CONNECTION_FAILED);
      expect(String((error as Error).message)).toContain(`cannot reach Redis at 127.0.0.1:${port} (`);
      servers.push(await startRedis(port, dir));
      await store.put('k::row-0', { n: 1 });
      expect(await store.get('k::row-0')).toEqual({ n: 1 });
    } finally {
      await store.close();
    }
  });

  it('reports an outage as a retryable ConnectionError and recovers after a restart', async () => {
    const port = await freePort();
    let server = await startRedis(port, dir);
    servers.push(server);
    const store = createRedisStateStore({ connection_url: `redis://127.0.0.1:${port}` });
    try {
      await store.put('k::row-0', { n: 1 });
      await stop(server);
      const error = await store.get('k::row-0').catch((e: unknown) => e);
      expect(isFaucetError(error) && error.code).toBe(ErrorCodes.CONNECTION_FAILED);
      expect(isFaucetError(error) && error.retryable).toBe(true);
      expect(String((error as Error).message)).toContain(`127.0.0.1:${port}`);
      server = await startRedis(port, dir);
      servers.push(server);
      // No persistence on this server: the value is gone, but the same store works again.
      await eventually('put after the restart', () => store.put('k::row-0', { n: 2 }));
      expect(await store.get('k::row-0')).toEqual({ n: 2 });
    } finally {
      await store.close();
    }
  });
});
