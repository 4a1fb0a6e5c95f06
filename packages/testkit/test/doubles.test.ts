/** The doubles behave as documented: other connectors' tests lean on them. */
import { createMemoryStateStore, type Page, runPipeline, silentLogger } from '@faucet/core';
import {
  failingSink,
  failingStateStore,
  InjectedFailure,
  memorySink,
  memorySinkStorage,
  memorySource,
} from '@faucet/testkit';
import { describe, expect, it } from 'vitest';

const ctx = (batchSize: number, bookmark?: { offset: number }) => ({
  bookmark,
  batchSize,
  signal: new AbortController().signal,
  logger: silentLogger,
});

async function pages(iterable: AsyncIterable<Page>): Promise<Page[]> {
  const out: Page[] = [];
  for await (const page of iterable) out.push(page);
  return out;
}

describe('memorySource', () => {
  it('builds records lazily, one page at a time', async () => {
    const source = memorySource({ count: 1000 });
    const iterator = source.read(ctx(10))[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value?.records).toHaveLength(10);
    expect(source.served).toBe(10);
    await iterator.return?.();
  });

  it('bookmarks every page, the final page only, or none, and resumes after a bookmark', async () => {
    const every = await pages(memorySource({ count: 25 }).read(ctx(10)));
    expect(every.map((p) => p.bookmark)).toEqual([{ offset: 10 }, { offset: 20 }, { offset: 25 }]);
    const final = await pages(memorySource({ count: 25, bookmarks: 'final-page' }).read(ctx(10)));
    expect(final.map((p) => p.bookmark)).toEqual([undefined, undefined, { offset: 25 }]);
    const none = await pages(memorySource({ count: 25, bookmarks: false }).read(ctx(10)));
    expect(none.every((p) => p.bookmark === undefined)).toBe(true);
    const resumed = await pages(memorySource({ count: 25 }).read(ctx(10, { offset: 20 })));
    expect(resumed.flatMap((p) => p.records.map((r) => r.id))).toEqual([21, 22, 23, 24, 25]);
  });

  it('stops waiting between pages when the signal aborts', async () => {
    const controller = new AbortController();
    const source = memorySource({ count: 30, delayMs: 60_000 });
    const iterator = source.read({ ...ctx(10), signal: controller.signal })[Symbol.asyncIterator]();
    await iterator.next();
    const second = iterator.next();
    controller.abort();
    expect((await second).done).toBe(true);
  });
});

describe('memorySink', () => {
  it('makes rows durable on flush only; a new instance over its storage drops unflushed ones', async () => {
    const storage = memorySinkStorage();
    const sink = memorySink({ storage });
    await sink.write([{ id: 1 }], { signal: new AbortController().signal, logger: silentLogger });
    await sink.flush?.();
    await sink.write([{ id: 2 }], { signal: new AbortController().signal, logger: silentLogger });
    expect(storage.rows).toEqual([{ id: 1 }]);
    expect(sink.buffered).toBe(1);
    memorySink({ storage });
    expect(storage.rows).toEqual([{ id: 1 }]);
  });

  it('upserts by key in keyed mode and reports rejected rows by index', async () => {
    const storage = memorySinkStorage();
    const sink = memorySink({ storage, mode: 'keyed', rejectRow: (r) => (r.bad ? 'bad' : undefined) });
    const wctx = { signal: new AbortController().signal, logger: silentLogger };
    const result = await sink.write([{ id: 1, v: 'a' }, { id: 9, bad: true }, { id: 2 }], wctx);
    expect(result?.failed?.map((f) => f.index)).toEqual([1]);
    await sink.write([{ id: 1, v: 'b' }], wctx);
    await sink.flush?.();
    expect(storage.rows).toEqual([{ id: 1, v: 'b' }, { id: 2 }]);
  });
});

describe('failingSink and failingStateStore', () => {
  it('fail once at the chosen write, row or flush', async () => {
    const wctx = { signal: new AbortController().signal, logger: silentLogger };
    const atWrite = failingSink(memorySink(), { failAtWrite: 2 });
    await atWrite.write([{ id: 1 }], wctx);
    await expect(atWrite.write([{ id: 2 }], wctx)).rejects.toBeInstanceOf(InjectedFailure);
    await atWrite.write([{ id: 3 }], wctx);

    const inner = memorySink();
    const atRow = failingSink(inner, { failAtRow: 5 });
    await atRow.write([{ id: 1 }, { id: 2 }, { id: 3 }], wctx);
    await expect(atRow.write([{ id: 4 }, { id: 5 }, { id: 6 }], wctx)).rejects.toThrow(
      'injected failure: row 5',
    );
    expect(inner.buffered).toBe(4);

    const atFlush = failingSink(memorySink(), { failAtFlush: 1 });
    await expect(atFlush.flush?.()).rejects.toThrow('injected failure: flush 1');
    await atFlush.flush?.();
  });

  it('a killed sink passes nothing on after the failure', async () => {
    const storage = memorySinkStorage();
    const killed = failingSink(memorySink({ storage }), { failAtWrite: 2, kill: true });
    const wctx = { signal: new AbortController().signal, logger: silentLogger };
    await killed.write([{ id: 1 }], wctx);
    await expect(killed.write([{ id: 2 }], wctx)).rejects.toBeInstanceOf(InjectedFailure);
    await expect(killed.flush?.()).rejects.toBeInstanceOf(InjectedFailure);
    expect(storage.rows).toEqual([]);
  });

  it('a state store that fails its second put leaves the first bookmark for the resumed run', async () => {
    const inner = createMemoryStateStore();
    const storage = memorySinkStorage();
    const first = await runPipeline({
      source: memorySource({ count: 50 }),
      sink: memorySink({ storage }),
      state: failingStateStore(inner, { failPutAt: 2 }),
      batchSize: 10,
      retry: false,
    });
    expect(first.status).toBe('failed');
    expect(first.error?.message).toContain('injected failure: state put 2');
    expect(first.checkpoints).toBe(1);
    const second = await runPipeline({
      source: memorySource({ count: 50 }),
      sink: memorySink({ storage }),
      state: inner,
      batchSize: 10,
    });
    expect(second.status).toBe('ok');
    expect(second.recordsRead).toBe(40);
    expect(storage.rows).toHaveLength(60);
  });
});
