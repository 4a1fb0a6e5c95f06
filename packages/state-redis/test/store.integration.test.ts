import { randomBytes } from 'node:crypto';
import process from 'node:process';
import { ErrorCodes, isFaucetError, type JsonValue, type Logger } from '@faucet/core';
import { createRedisStateStore, type RedisStateStore } from '@faucet/state-redis';
import { recordingLogger, refusal, sleep } from '@faucet/test-support';
import { Redis } from 'ioredis';
import { afterAll, afterEach, expect, it } from 'vitest';
import { describeWithRedis, dropNamespace } from './redis-env.js';

describeWithRedis('state-redis against a real Redis', (url) => {
  const run = randomBytes(4).toString('hex');
  const namespaces: string[] = [];
  const stores: RedisStateStore[] = [];
  const raw = new Redis(url);

  const open = (namespace: string, extra: { logger?: Logger; lock_refresh_ms?: number } = {}) => {
    if (!namespaces.includes(namespace)) namespaces.push(namespace);
    const { logger, ...settings } = extra;
    const store = createRedisStateStore(
      { connection_url: url, namespace, ...settings },
      logger === undefined ? {} : { logger },
    );
    stores.push(store);
    return store;
  };

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });
  afterAll(async () => {
    for (const namespace of namespaces) await dropNamespace(url, namespace);
    await raw.quit();
  });

  it('keeps namespaces apart: same key, separate values, lists and deletes', async () => {
    const a = open(`ns-a-${run}`);
    const b = open(`ns-b-${run}`);
    await a.put('orders::row-0', { from: 'a' });
    await b.put('orders::row-0', { from: 'b' });
    expect(await a.get('orders::row-0')).toEqual({ from: 'a' });
    expect(await b.get('orders::row-0')).toEqual({ from: 'b' });
    await a.put('only-a::row-0', 1);
    expect(await b.list()).toEqual(['orders::row-0']);
    await a.delete('orders::row-0');
    expect(await a.get('orders::row-0')).toBeUndefined();
    expect(await b.get('orders::row-0')).toEqual({ from: 'b' });
    // Stored as plain JSON text under {namespace}:{key}, readable by any Redis tool.
    expect(await raw.get(`ns-b-${run}:orders::row-0`)).toBe('{"from":"b"}');
  });

  it('lists 2,500 keys through SCAN, exactly once each and sorted, without lock keys', async () => {
    const store = open(`many-${run}`);
    const keys = Array.from({ length: 2_500 }, (_, i) => `bulk::row-${String(i).padStart(4, '0')}`);
    const pipeline = raw.pipeline();
    for (const key of keys) pipeline.set(`many-${run}:${key}`, '{"n":1}');
    await pipeline.exec();
    await store.put('other::row-0', 1);
    const release = await store.lock('bulk::row-0000', 30_000);
    try {
      expect(await store.list('bulk::')).toEqual(keys);
      expect(await store.list('bulk::row-12')).toEqual(keys.filter((k) => k.startsWith('bulk::row-12')));
      const all = await store.list();
      expect(all).toHaveLength(2_501);
      expect(all.some((k) => k.includes('lock'))).toBe(false);
    } finally {
      await release();
    }
  });

  it('matches a prefix literally: glob and LIKE characters are not wildcards', async () => {
    const namespace = `glob-${run}`;
    const store = open(namespace);
    await store.put('a_b::x', 1);
    await store.put('aXb::y', 2);
    await store.put('ab::z', 3);
    expect(await store.list('a_')).toEqual(['a_b::x']);
    for (const prefix of ['a*', 'a?', '[a]', 'a%', 'a\\', '*', '%']) {
      expect(await store.list(prefix), `list("${prefix}")`).toEqual([]);
    }
    // Keys another tool wrote under the namespace are not state keys, even when the prefix matches.
    await raw.set(`${namespace}:a*b`, '1');
    await raw.set(`${namespace}:a b`, '1');
    expect(await store.list('a')).toEqual(['aXb::y', 'a_b::x', 'ab::z']);
  });

  it('refuses to read a value that is not JSON instead of reporting "no bookmark"', async () => {
    const namespace = `bad-${run}`;
    const store = open(namespace);
    await raw.set(`${namespace}:broken::row-0`, 'not json {');
    const error = await refusal(store.get('broken::row-0'));
    expect(isFaucetError(error)).toBe(true);
    expect(error.code).toBe(ErrorCodes.STATE_FAILED);
    expect(error.message).toContain('broken::row-0');
    expect(error.message).toContain('not valid JSON');
  });

  it('works on an injected client and leaves it open on close()', async () => {
    const client = new Redis(url);
    try {
      const namespace = `injected-${run}`;
      namespaces.push(namespace);
      const store = createRedisStateStore({ namespace }, { client });
      await store.put('k::row-0', { ok: true });
      expect(await store.get('k::row-0')).toEqual({ ok: true });
      const release = await store.lock('k::row-0', 10_000);
      await store.close();
      // close() released the lock, but not the caller's client.
      expect(await client.get(`${namespace}:lock#k::row-0`)).toBeNull();
      expect(await client.ping()).toBe('PONG');
      await release();
    } finally {
      await client.quit();
    }
  });

  it('closes the client it made; later calls fail with a clear StateError', async () => {
    const store = createRedisStateStore({ connection_url: url, namespace: `closed-${run}` });
    await store.put('k::row-0', 1);
    await store.close();
    await store.close();
    const error = await refusal(store.get('k::row-0'));
    expect(error.code).toBe(ErrorCodes.STATE_FAILED);
    expect(error.message).toContain('closed');
  });

  it('stores who holds a lock, with a TTL, and keeps it alive past the TTL while held', async () => {
    const namespace = `lock-${run}`;
    const holder = open(namespace);
    const contender = open(namespace);
    const release = await holder.lock('job::row-0', 600);
    const value = JSON.parse((await raw.get(`${namespace}:lock#job::row-0`)) ?? 'null') as {
      [k: string]: JsonValue;
    };
    expect(value).toMatchObject({ pid: process.pid, ttl_ms: 600 });
    expect(typeof value.token).toBe('string');
    expect(typeof value.host).toBe('string');
    expect(Number.isNaN(Date.parse(String(value.since)))).toBe(false);
    const ttl = await raw.pttl(`${namespace}:lock#job::row-0`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600);

    await sleep(1_500); // 2.5 TTLs: only the refresh keeps it
    const error = await refusal(contender.lock('job::row-0', 600));
    expect(error.code).toBe(ErrorCodes.STATE_LOCKED);
    expect(error.message).toContain('"job::row-0"');
    expect(error.message).toContain(
      `pid ${process.pid} on ${String(value.host)} since ${String(value.since)}`,
    );

    await release();
    expect(await raw.exists(`${namespace}:lock#job::row-0`)).toBe(0);
    const again = await contender.lock('job::row-0', 600);
    await again();
  });

  it('never frees a lock that expired and was taken by another run, and warns that it was lost', async () => {
    const namespace = `lost-${run}`;
    const logger = recordingLogger();
    const { warnings } = logger;
    const first = open(namespace, { logger, lock_refresh_ms: 100 });
    const second = open(namespace);
    const release = await first.lock('job::row-0', 5_000);
    // Simulate an expiry (Redis unreachable for longer than the TTL): the key vanishes.
    await raw.del(`${namespace}:lock#job::row-0`);
    const taken = await second.lock('job::row-0', 5_000);
    await sleep(300);
    expect(warnings.some((w) => w.includes('lost the lock'))).toBe(true);
    await release(); // must not delete the second holder's lock
    const error = await refusal(first.lock('job::row-0', 5_000));
    expect(error.code).toBe(ErrorCodes.STATE_LOCKED);
    await taken();
  });

  it('rejects a refresh interval that is not shorter than the lock TTL', async () => {
    const store = open(`cfg-${run}`, { lock_refresh_ms: 1_000 });
    const error = await refusal(store.lock('job::row-0', 1_000));
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(error.message).toContain('lock_refresh_ms');
  });

  it('checks state keys before talking to Redis', async () => {
    const store = open(`keys-${run}`);
    const error = await refusal(store.put('has space', 1));
    expect(error.code).toBe(ErrorCodes.STATE_KEY_INVALID);
  });
});
