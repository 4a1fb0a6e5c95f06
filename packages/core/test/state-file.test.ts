import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  configJsonSchema,
  createFileStateStore,
  fileStateStore,
  type JsonObject,
  Redactor,
  StateError,
  silentLogger,
  validateConfig,
} from '../src/index.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'faucet-state-file-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A value whose completeness can be checked: `size` says how long `payload` must be. */
function sizedValue(seq: number, size: number): JsonObject {
  return { seq, size, payload: 'x'.repeat(size), end: seq };
}
function assertComplete(value: unknown): asserts value is JsonObject {
  const v = value as { seq?: unknown; size?: unknown; payload?: unknown; end?: unknown };
  expect(typeof v.seq).toBe('number');
  expect(typeof v.payload === 'string' && v.payload.length === v.size).toBe(true);
  expect(v.end).toBe(v.seq);
}

const invalidKeys: Array<[string, string]> = [
  ['', 'non-empty'],
  ['pipe line::row-0', '" "'],
  ['x/../../escape', '"/"'],
  ['.hidden', 'must not start with a dot'],
  ['k'.repeat(257), 'at most 256'],
];

describe('file state store', () => {
  it('round-trips values, one JSON file per key, and lists keys by prefix', async () => {
    const dir = join(root, 'nested', 'state');
    const store = createFileStateStore({ path: dir });
    expect(store.durable).toBe(true);
    expect(await store.get('orders::row-0')).toBeUndefined();
    expect(await store.list()).toEqual([]);

    await store.put('orders::row-1', { cursor: 2 });
    await store.put('orders::row-0', { cursor: 1 });
    await store.put('postgres-cdc:slot_a', { lsn: '0/16B3748' });
    expect(await store.get('orders::row-0')).toEqual({ cursor: 1 });
    expect((await readdir(dir)).sort()).toEqual([
      'orders%3A%3Arow-0.json',
      'orders%3A%3Arow-1.json',
      'postgres-cdc%3Aslot_a.json',
    ]);
    expect(JSON.parse(await readFile(join(dir, 'orders%3A%3Arow-0.json'), 'utf8'))).toEqual({ cursor: 1 });

    expect(await store.list()).toEqual(['orders::row-0', 'orders::row-1', 'postgres-cdc:slot_a']);
    expect(await store.list('orders::')).toEqual(['orders::row-0', 'orders::row-1']);
    expect(await store.list('postgres-cdc:')).toEqual(['postgres-cdc:slot_a']);

    await store.put('orders::row-0', null);
    expect(await store.get('orders::row-0')).toBeNull();
    await store.delete('orders::row-0');
    await store.delete('orders::row-0');
    expect(await store.get('orders::row-0')).toBeUndefined();
    expect(await store.list('orders::')).toEqual(['orders::row-1']);

    // A second store on the same directory (the next run) sees the same state.
    const reopened = createFileStateStore({ path: dir, fsync: false });
    expect(await reopened.get('postgres-cdc:slot_a')).toEqual({ lsn: '0/16B3748' });
  });

  it('keeps its own copy: mutating what was put or what get returned changes nothing', async () => {
    const store = createFileStateStore({ path: root });
    const value: JsonObject = { cursor: { id: 1 } };
    const pending = store.put('k', value);
    (value.cursor as JsonObject).id = 99;
    await pending;
    const read = (await store.get('k')) as JsonObject;
    expect(read).toEqual({ cursor: { id: 1 } });
    (read.cursor as JsonObject).id = 5;
    expect(await store.get('k')).toEqual({ cursor: { id: 1 } });
  });

  it.each(invalidKeys)('rejects the key %j on every operation', async (key, problem) => {
    const store = createFileStateStore({ path: root });
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
    expect(await readdir(root)).toEqual([]);
  });

  it('ends many concurrent puts to one key with the last one, complete', async () => {
    const store = createFileStateStore({ path: root });
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.put('k', sizedValue(i, 1000 + i * 997))));
    const value = await store.get('k');
    assertComplete(value);
    expect(value.seq).toBe(49);
    expect(await readdir(root)).toEqual(['k.json']);
  });

  it('never shows a reader a partial value while 200 puts replace it', async () => {
    const writer = createFileStateStore({ path: root });
    const reader = createFileStateStore({ path: root });
    await writer.put('k', sizedValue(0, 10));
    let writing = true;
    let reads = 0;
    let lastSeq = 0;
    const polling = (async () => {
      while (writing) {
        const value = await reader.get('k');
        assertComplete(value);
        // Readers never see the value go back in time either.
        expect(value.seq as number).toBeGreaterThanOrEqual(lastSeq);
        lastSeq = value.seq as number;
        reads++;
      }
    })();
    for (let seq = 1; seq <= 200; seq++) {
      await writer.put('k', sizedValue(seq, (seq * 7919) % 150_000));
    }
    writing = false;
    await polling;
    expect(reads).toBeGreaterThan(20);
    const final = await reader.get('k');
    assertComplete(final);
    expect(final.seq).toBe(200);
  });

  it('ignores a half-written temp file left by a crash before the rename, then cleans it up', async () => {
    const store = createFileStateStore({ path: root });
    await store.put('orders::row-0', { cursor: 41 });
    // What a crash between writing the temp file and renaming it leaves behind.
    const temp = join(root, 'orders%3A%3Arow-0.json.0123456789abcdef.tmp');
    await writeFile(temp, '{"cursor": 4');

    expect(await store.get('orders::row-0')).toEqual({ cursor: 41 });
    expect(await store.list()).toEqual(['orders::row-0']);

    // The next run's first put of that key removes the debris (once it is clearly not in use).
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(temp, old, old);
    const nextRun = createFileStateStore({ path: root });
    await nextRun.put('orders::row-0', { cursor: 42 });
    expect(await readdir(root)).toEqual(['orders%3A%3Arow-0.json']);
    expect(await nextRun.get('orders::row-0')).toEqual({ cursor: 42 });
  });

  it('lists only files faucet would have written', async () => {
    const store = createFileStateStore({ path: root });
    await store.put('a::row-0', 1);
    await writeFile(join(root, 'a%3A%3Arow-0.json.lock'), '{}');
    await writeFile(join(root, 'a%3A%3Arow-0.json.89abcdef01234567.tmp'), '1');
    await writeFile(join(root, 'notes.txt'), 'hi');
    await writeFile(join(root, 'a%3a%3Arow-1.json'), '1');
    await writeFile(join(root, 'has space.json'), '1');
    expect(await store.list()).toEqual(['a::row-0']);
  });

  it('refuses to read a corrupt value as "no bookmark", naming the file', async () => {
    const store = createFileStateStore({ path: root });
    const path = join(root, 'orders%3A%3Arow-0.json');
    for (const content of ['{"cursor": 4', '']) {
      await writeFile(path, content);
      const error = await store.get('orders::row-0').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StateError);
      expect(error).toMatchObject({ code: 'STATE_FAILED' });
      expect((error as Error).message).toContain(path);
      expect((error as Error).message).toContain('not valid JSON');
    }
  });

  it('wraps file-system errors with the operation, key and directory', async () => {
    // The configured directory is a regular file: nothing can be read or written there.
    const notADir = join(root, 'state');
    await writeFile(notADir, 'I am a file');
    const store = createFileStateStore({ path: notADir });
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['get of "k"', () => store.get('k')],
      ['put of "k"', () => store.put('k', 1)],
      ['delete of "k"', () => store.delete('k')],
      ['list', () => store.list()],
      ['lock of "k"', () => store.lock!('k', 1000)],
    ];
    for (const [what, op] of cases) {
      const error = await op().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, what).toBeInstanceOf(StateError);
      expect(error).toMatchObject({ code: 'STATE_FAILED' });
      expect((error as Error).message).toContain(what);
      expect((error as Error).message).toContain(notADir);
      expect((error as Error).cause).toMatchObject({ code: expect.stringMatching(/^E[A-Z]+$/) });
    }
  });

  it('refuses a value JSON cannot hold, leaving the stored one in place', async () => {
    const store = createFileStateStore({ path: root });
    await store.put('k', { ok: true });
    const cyclic: JsonObject = {};
    cyclic.self = cyclic;
    await expect(store.put('k', cyclic)).rejects.toMatchObject({ code: 'STATE_FAILED' });
    expect(await store.get('k')).toEqual({ ok: true });
  });

  it('writes with fsync off too', async () => {
    const store = createFileStateStore({ path: root, fsync: false });
    await store.put('k', { a: 1 });
    expect(await store.get('k')).toEqual({ a: 1 });
    expect((await stat(join(root, 'k.json'))).isFile()).toBe(true);
  });

  it('validates its options', () => {
    expect(() => createFileStateStore({ path: '' })).toThrow(ConfigError);
    expect(() => createFileStateStore({ path: '' })).toThrow(/path/);
    expect(() => createFileStateStore({ path: root, extra: 1 } as never)).toThrow(ConfigError);
  });

  it('is a state plugin with id "file" configured by path and fsync', async () => {
    expect(fileStateStore.kind).toBe('state');
    expect(fileStateStore.id).toBe('file');
    const config = await validateConfig(fileStateStore, { path: root });
    expect(config).toEqual({ path: root, fsync: true });
    const errors = await validateConfig(fileStateStore, { fsync: 'yes', dir: 'x' }).catch((e: unknown) => e);
    expect(errors).toBeInstanceOf(ConfigError);
    const message = (errors as Error).message;
    expect(message).toContain('invalid config for state "file"');
    expect(message).toMatch(/path/);
    expect(message).toMatch(/fsync/);
    expect(message).toMatch(/dir/);
    const store = await fileStateStore.create(config, { logger: silentLogger, redactor: new Redactor([]) });
    await store.put('k', [1]);
    expect(await store.get('k')).toEqual([1]);
    await store.close?.();
    // What `faucet schema` shows for editor completion.
    expect(configJsonSchema(fileStateStore)).toMatchObject({
      type: 'object',
      properties: { path: { type: 'string' }, fsync: { type: 'boolean', default: true } },
      required: ['path'],
      additionalProperties: false,
    });
  });
});
