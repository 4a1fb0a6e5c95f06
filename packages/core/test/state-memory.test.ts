import process from 'node:process';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createMemoryStateStore,
  type JsonObject,
  memoryStateStore,
  Redactor,
  StateLockedError,
  silentLogger,
  validateConfig,
} from '../src/index.js';

const invalidKeys: Array<[string, string]> = [
  ['', 'non-empty'],
  ['pipe line::row-0', '" "'],
  ['pipe/line', '"/"'],
  ['.hidden', 'must not start with a dot'],
  ['k'.repeat(257), 'at most 256'],
];

describe('memory state store', () => {
  it('round-trips values and lists keys by prefix, sorted', async () => {
    const store = createMemoryStateStore();
    expect(store.durable).toBe(false);
    expect(await store.get('orders::row-0')).toBeUndefined();
    await store.put('orders::row-1', { cursor: 2 });
    await store.put('orders::row-0', { cursor: 1 });
    await store.put('users::row-0', 'u');
    expect(await store.get('orders::row-0')).toEqual({ cursor: 1 });
    expect(await store.list()).toEqual(['orders::row-0', 'orders::row-1', 'users::row-0']);
    expect(await store.list('orders::')).toEqual(['orders::row-0', 'orders::row-1']);
    expect(await store.list('nothing')).toEqual([]);
    await store.put('orders::row-0', [1, 2, 3]);
    expect(await store.get('orders::row-0')).toEqual([1, 2, 3]);
    await store.delete('orders::row-0');
    await store.delete('orders::row-0');
    expect(await store.get('orders::row-0')).toBeUndefined();
    expect(await store.list('orders::')).toEqual(['orders::row-1']);
  });

  it('keeps its own copy: mutating what was put or what get returned changes nothing', async () => {
    const store = createMemoryStateStore();
    const value: JsonObject = { cursor: { id: 1 }, seen: [1] };
    await store.put('k', value);
    (value.cursor as JsonObject).id = 99;
    const first = (await store.get('k')) as JsonObject;
    expect(first).toEqual({ cursor: { id: 1 }, seen: [1] });
    (first.seen as number[]).push(2);
    expect(await store.get('k')).toEqual({ cursor: { id: 1 }, seen: [1] });
  });

  it('refuses a value JSON cannot hold', async () => {
    const store = createMemoryStateStore();
    const cyclic: JsonObject = {};
    cyclic.self = cyclic;
    await expect(store.put('k', cyclic)).rejects.toMatchObject({ code: 'STATE_FAILED' });
    expect(await store.get('k')).toBeUndefined();
  });

  it.each(invalidKeys)('rejects the key %j on every operation', async (key, problem) => {
    const store = createMemoryStateStore();
    for (const op of [
      () => store.get(key),
      () => store.put(key, 1),
      () => store.delete(key),
      () => store.lock!(key, 1000),
    ]) {
      const error = await op().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'STATE_KEY_INVALID' });
      expect((error as Error).message).toContain(problem);
    }
  });

  it('locks a key once per process until released', async () => {
    const store = createMemoryStateStore();
    const release = await store.lock!('orders::row-0', 60_000);
    const error = await store.lock!('orders::row-0', 60_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateLockedError);
    expect((error as StateLockedError).message).toContain('"orders::row-0"');
    expect((error as StateLockedError).holder).toBe(`pid ${process.pid} (this process)`);
    // Another key is independent.
    const other = await store.lock!('orders::row-1', 60_000);
    await release();
    await release();
    const again = await store.lock!('orders::row-0', 60_000);
    await again();
    await other();
  });

  it('rejects a lock TTL that is not a positive number', async () => {
    const store = createMemoryStateStore();
    await expect(store.lock!('k', 0)).rejects.toBeInstanceOf(ConfigError);
    await expect(store.lock!('k', Number.NaN)).rejects.toBeInstanceOf(ConfigError);
  });

  it('is a state plugin with id "memory" that needs no config', async () => {
    expect(memoryStateStore.kind).toBe('state');
    expect(memoryStateStore.id).toBe('memory');
    const config = await validateConfig(memoryStateStore, undefined);
    const store = await memoryStateStore.create(config, { logger: silentLogger, redactor: new Redactor([]) });
    await store.put('k', 1);
    expect(await store.get('k')).toBe(1);
    await expect(validateConfig(memoryStateStore, { path: './x' })).rejects.toBeInstanceOf(ConfigError);
  });
});
