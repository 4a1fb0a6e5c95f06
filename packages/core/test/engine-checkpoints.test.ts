import { describe, expect, it } from 'vitest';
import {
  type JsonValue,
  type Page,
  runPipeline,
  type Source,
  type SourceContext,
  unwrapState,
} from '../src/index.js';
import { countingSource, newStorage, recordingSink, testStore } from './doubles.js';

/** A source that logs what it was told, in order, next to what the store held at that moment. */
function ackingSource(pages: Page[], log: string[], map: Map<string, JsonValue>): Source {
  return {
    async *read(ctx: SourceContext) {
      log.push(`start durable=${ctx.durableState}`);
      for (const page of pages) yield page;
    },
    onCheckpoint(bookmark, info) {
      const stored = map.get(info.partition === undefined ? 'p::row-0' : `p::row-0::${info.partition}`);
      const storedBookmark = stored === undefined ? undefined : unwrapState(stored).bookmark;
      // The bookmark acknowledged must already be the stored one.
      log.push(`ack ${JSON.stringify(bookmark)} stored=${JSON.stringify(storedBookmark)}`);
    },
  };
}

describe('checkpoint acknowledgement (Source.onCheckpoint)', () => {
  it('is called after each durable state put, with the bookmark already stored', async () => {
    const map = new Map<string, JsonValue>();
    const log: string[] = [];
    const pages: Page[] = [
      { records: [{ id: 1 }], bookmark: { lsn: '0/1' } },
      { records: [{ id: 2 }] },
      { records: [{ id: 3 }], bookmark: { lsn: '0/3' } },
    ];
    const result = await runPipeline({
      pipeline: 'p',
      source: ackingSource(pages, log, map),
      sink: recordingSink(newStorage()),
      state: testStore(map),
    });
    expect(result.status).toBe('ok');
    expect(log).toEqual([
      'start durable=true',
      'ack {"lsn":"0/1"} stored={"lsn":"0/1"}',
      'ack {"lsn":"0/3"} stored={"lsn":"0/3"}',
    ]);
  });

  it('is never called when the store is not durable, and the source is told so', async () => {
    const map = new Map<string, JsonValue>();
    const log: string[] = [];
    await runPipeline({
      pipeline: 'p',
      source: ackingSource([{ records: [{ id: 1 }], bookmark: { lsn: '0/1' } }], log, map),
      sink: recordingSink(newStorage()),
      state: testStore(map, { durable: false }),
    });
    expect(log).toEqual(['start durable=false']);
    const noState: string[] = [];
    await runPipeline({
      pipeline: 'p',
      source: ackingSource([{ records: [{ id: 1 }], bookmark: { lsn: '0/1' } }], noState, map),
      sink: recordingSink(newStorage()),
    });
    expect(noState).toEqual(['start durable=false']);
  });

  it('is not called for a bookmark whose put failed', async () => {
    const map = new Map<string, JsonValue>();
    const log: string[] = [];
    const result = await runPipeline({
      pipeline: 'p',
      source: ackingSource(
        [
          { records: [{ id: 1 }], bookmark: { lsn: '0/1' } },
          { records: [{ id: 2 }], bookmark: { lsn: '0/2' } },
        ],
        log,
        map,
      ),
      sink: recordingSink(newStorage()),
      state: testStore(map, { failPutAt: 2 }),
      retry: false,
    });
    expect(result.status).toBe('failed');
    expect(log).toEqual(['start durable=true', 'ack {"lsn":"0/1"} stored={"lsn":"0/1"}']);
  });

  it('a failing acknowledgement is logged and does not fail the run', async () => {
    const warnings: string[] = [];
    const source: Source = {
      async *read() {
        yield { records: [{ id: 1 }], bookmark: 1 };
      },
      onCheckpoint() {
        throw new Error('replication connection gone');
      },
    };
    const result = await runPipeline({
      source,
      sink: recordingSink(newStorage()),
      state: testStore(new Map()),
      logger: {
        debug() {},
        info() {},
        warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields)}`),
        error() {},
      },
    });
    expect(result.status).toBe('ok');
    expect(warnings.join('\n')).toContain('replication connection gone');
  });
});

describe('partitioned checkpoints (Page.partition)', () => {
  function partitionedSource(seen: Record<string, JsonValue | undefined>): Source {
    return {
      async *read(ctx) {
        for (const p of ['a', 'b']) {
          const stored = (await ctx.partitionBookmark?.(p)) as number | undefined;
          seen[p] = stored;
          const start = stored ?? 0;
          for (let i = start; i < start + 2; i++) {
            yield { records: [{ p, i }], bookmark: i + 1, partition: p };
          }
        }
      },
    };
  }

  it('stores each partition under its own key and reads it back on the next run', async () => {
    const map = new Map<string, JsonValue>();
    const storage = newStorage();
    const first: Record<string, JsonValue | undefined> = {};
    const result = await runPipeline({
      pipeline: 'p',
      source: partitionedSource(first),
      sink: recordingSink(storage),
      state: testStore(map),
    });
    expect(result.status).toBe('ok');
    expect(first).toEqual({ a: undefined, b: undefined });
    expect([...map.keys()].sort()).toEqual(['p::row-0::a', 'p::row-0::b']);
    expect(unwrapState(map.get('p::row-0::a')).bookmark).toBe(2);

    const second: Record<string, JsonValue | undefined> = {};
    await runPipeline({
      pipeline: 'p',
      source: partitionedSource(second),
      sink: recordingSink(storage),
      state: testStore(map),
    });
    expect(second).toEqual({ a: 2, b: 2 });
    expect(unwrapState(map.get('p::row-0::b')).bookmark).toBe(4);
  });

  it('rejects a partition id that cannot be part of a state key, naming it', async () => {
    const result = await runPipeline({
      source: {
        async *read() {
          yield { records: [{ id: 1 }], bookmark: 1, partition: 'has space' };
        },
      },
      sink: recordingSink(newStorage()),
      state: testStore(new Map()),
    });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toContain('"has space"');
  });
});

describe('checkpoint_every (checkpointEveryMs)', () => {
  const HOUR = 3_600_000;

  it('stores the first checkpoint, then only when the interval has passed, and the newest at the end', async () => {
    const map = new Map<string, JsonValue>();
    const store = testStore(map);
    const storage = newStorage();
    const sink = recordingSink(storage);
    const result = await runPipeline({
      pipeline: 'p',
      source: countingSource({ total: 1000, pageSize: 100 }),
      sink,
      state: store,
      checkpointEveryMs: HOUR,
    });
    expect(result).toMatchObject({
      status: 'ok',
      recordsWritten: 1000,
      checkpoints: 2,
      lastBookmark: { offset: 1000 },
    });
    expect(store.puts()).toBe(2);
    expect(sink.flushes()).toBe(3); // after page 1, before the final store, and the end-of-run flush
    expect(unwrapState(map.get('p::row-0')).bookmark).toEqual({ offset: 1000 });
    expect(storage.rows).toHaveLength(1000);
  });

  it('after a failure it can see, stores the checkpoint of the last page written, then resumes after it', async () => {
    const map = new Map<string, JsonValue>();
    const storage = newStorage();
    const failed = await runPipeline({
      pipeline: 'p',
      source: countingSource({ total: 1000, pageSize: 100, failAtPage: 7 }),
      sink: recordingSink(storage),
      state: testStore(map),
      checkpointEveryMs: HOUR,
    });
    expect(failed.status).toBe('failed');
    // The source failed on page 7: pages 1-6 were written, so after a flush their newest checkpoint
    // is stored (issue 11 item 5), and a crash loop of such failures still moves forward.
    expect(unwrapState(map.get('p::row-0')).bookmark).toEqual({ offset: 600 });
    expect(failed.checkpoints).toBe(2);
    const resumed = await runPipeline({
      pipeline: 'p',
      source: countingSource({ total: 1000, pageSize: 100 }),
      sink: recordingSink(storage),
      state: testStore(map),
      checkpointEveryMs: HOUR,
    });
    expect(resumed.status).toBe('ok');
    const ids = new Set(storage.rows.map((r) => r.id));
    expect(ids.size).toBe(1000);
    expect(unwrapState(map.get('p::row-0')).bookmark).toEqual({ offset: 1000 });
  });

  it('after a later page fails to write, stores the checkpoint of the pages written before it', async () => {
    const map = new Map<string, JsonValue>();
    const storage = newStorage();
    const failed = await runPipeline({
      pipeline: 'p',
      source: countingSource({ total: 1000, pageSize: 100 }),
      // The 5th write throws: pages 1-4 were written and are flushed before their checkpoint.
      sink: recordingSink(storage, { failWriteAt: 5 }),
      state: testStore(map),
      checkpointEveryMs: HOUR,
    });
    expect(failed.status).toBe('failed');
    expect(unwrapState(map.get('p::row-0')).bookmark).toEqual({ offset: 400 });
    expect(storage.rows).toHaveLength(400);
  });

  it('a failed flush stores nothing more: the state stays at the last checkpoint whose rows were durable', async () => {
    const map = new Map<string, JsonValue>();
    const failed = await runPipeline({
      pipeline: 'p',
      source: countingSource({ total: 1000, pageSize: 100 }),
      // Flush 1 is page 1's checkpoint; flush 2 is the next due one, which fails.
      sink: recordingSink(newStorage(), { failFlushAt: 2 }),
      state: testStore(map),
      checkpointEveryMs: 0,
      retry: false,
    });
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('SINK_FLUSH_FAILED');
    expect(unwrapState(map.get('p::row-0')).bookmark).toEqual({ offset: 100 });
  });

  it('stores the newest checkpoint when the run is cancelled', async () => {
    const map = new Map<string, JsonValue>();
    const controller = new AbortController();
    const storage = newStorage();
    const result = await runPipeline({
      pipeline: 'p',
      // Cancelled while page 4 is being produced: pages 1–3 are written, page 1's checkpoint stored.
      source: countingSource({ total: 1000, pageSize: 100, onPage: (n) => n === 4 && controller.abort() }),
      sink: recordingSink(storage),
      state: testStore(map),
      checkpointEveryMs: HOUR,
      signal: controller.signal,
      readAhead: false,
    });
    expect(result.status).toBe('cancelled');
    expect(storage.rows).toHaveLength(300);
    expect(unwrapState(map.get('p::row-0')).bookmark).toEqual({ offset: 300 });
  });

  it("keeps every partition's newest checkpoint and stores them all", async () => {
    const map = new Map<string, JsonValue>();
    const source: Source = {
      async *read() {
        for (let i = 1; i <= 3; i++) {
          yield { records: [{ p: 'a', i }], bookmark: i, partition: 'a' };
          yield { records: [{ p: 'b', i }], bookmark: i * 10, partition: 'b' };
        }
      },
    };
    const result = await runPipeline({
      pipeline: 'p',
      source,
      sink: recordingSink(newStorage()),
      state: testStore(map),
      checkpointEveryMs: HOUR,
    });
    expect(result.status).toBe('ok');
    expect(unwrapState(map.get('p::row-0::a')).bookmark).toBe(3);
    expect(unwrapState(map.get('p::row-0::b')).bookmark).toBe(30);
  });

  it('is refused with effectively_once and when negative', async () => {
    const storage = newStorage();
    await expect(
      runPipeline({
        source: countingSource({ total: 10, pageSize: 5 }),
        sink: recordingSink(storage, { idempotent: true }),
        state: testStore(new Map()),
        delivery: 'effectively_once',
        checkpointEveryMs: 1000,
      }),
    ).rejects.toThrow(/checkpoint_every: cannot be combined with effectively_once/);
    await expect(
      runPipeline({
        source: countingSource({ total: 10 }),
        sink: recordingSink(storage),
        checkpointEveryMs: -1,
      }),
    ).rejects.toThrow(/checkpoint_every: must be a duration of 0 or more/);
  });
});
