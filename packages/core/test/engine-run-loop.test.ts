import { describe, expect, it } from 'vitest';
import {
  createConsoleLogger,
  type FaucetRecord,
  type JsonValue,
  type Page,
  type ProgressEvent,
  runPipeline,
  type Sink,
  type Source,
  StateLockedError,
  unwrapState,
} from '../src/index.js';
import { Boom, countingSource, newStorage, recordingSink, testStore } from './doubles.js';

describe('run loop', () => {
  it('moves every record in order and reports the result', async () => {
    const storage = newStorage();
    const stateMap = new Map<string, JsonValue>();
    const result = await runPipeline({
      pipeline: 'p',
      row: 'r1',
      source: countingSource({ total: 2500, pageSize: 1000 }),
      sink: recordingSink(storage),
      state: testStore(stateMap),
    });
    expect(result).toMatchObject({
      status: 'ok',
      pipeline: 'p',
      row: 'r1',
      stateKey: 'p::r1',
      recordsRead: 2500,
      recordsWritten: 2500,
      recordsDeadLettered: 0,
      pages: 3,
      checkpoints: 3,
      pagesSkipped: 0,
      lastBookmark: { offset: 2500 },
    });
    expect(result.durationMs).toBeGreaterThan(0);
    expect(storage.rows.map((r) => r.id)).toEqual([...Array(2500).keys()]);
    const envelope = stateMap.get('p::r1') as Record<string, JsonValue>;
    expect(Object.keys(envelope).sort()).toEqual(['bookmark', 'run_id', 'source', 'updated_at', 'v']);
    expect(envelope).toMatchObject({ v: 1, bookmark: { offset: 2500 }, run_id: result.runId });
  });

  it('resumes from the stored bookmark: a second run reads nothing new', async () => {
    const storage = newStorage();
    const stateMap = new Map<string, JsonValue>();
    const opts = () => ({
      source: countingSource({ total: 300, pageSize: 100 }),
      sink: recordingSink(storage),
      state: testStore(stateMap),
    });
    await runPipeline(opts());
    const second = await runPipeline(opts());
    expect(second).toMatchObject({ status: 'ok', recordsRead: 0, pages: 0, checkpoints: 0 });
    // Nothing new was checkpointed: the result says where the state stands.
    expect(second.lastBookmark).toEqual({ offset: 300 });
    expect(storage.rows).toHaveLength(300);
  });

  it('passes the stored bookmark, batch size, signal and parent to the source', async () => {
    const seen: unknown[] = [];
    const source: Source = {
      // biome-ignore lint/correctness/useYield: a source that finds nothing yields no page
      async *read(ctx) {
        seen.push(ctx.bookmark, ctx.batchSize, ctx.signal instanceof AbortSignal, ctx.parent);
      },
    };
    const stateMap = new Map<string, JsonValue>([
      [
        'unnamed::row-0',
        { v: 1, bookmark: 'B', source: { type: 's', version: '1' }, run_id: 'x', updated_at: '' },
      ],
    ]);
    await runPipeline({
      source,
      sink: recordingSink(newStorage()),
      state: testStore(stateMap),
      batchSize: 42,
      parent: { id: 7 },
    });
    expect(seen).toEqual(['B', 42, true, { id: 7 }]);
  });

  it('a source that names its own state key wins over the pipeline key', async () => {
    const stateMap = new Map<string, JsonValue>();
    const source = Object.assign(countingSource({ total: 10 }), { stateKey: 'postgres-cdc:slot_a' });
    const result = await runPipeline({
      source,
      sink: recordingSink(newStorage()),
      state: testStore(stateMap),
      stateKey: 'x::y',
    });
    expect(result.stateKey).toBe('postgres-cdc:slot_a');
    expect([...stateMap.keys()]).toEqual(['postgres-cdc:slot_a']);
  });

  it('an empty page with a bookmark moves the state without writing', async () => {
    const stateMap = new Map<string, JsonValue>();
    const sink = recordingSink(newStorage());
    const source: Source = {
      async *read() {
        yield { records: [], bookmark: { etag: 'v2' } };
      },
    };
    const result = await runPipeline({ source, sink, state: testStore(stateMap) });
    expect(result.checkpoints).toBe(1);
    expect(sink.writes()).toBe(0);
    expect(unwrapState(stateMap.get('unnamed::row-0')).bookmark).toEqual({ etag: 'v2' });
  });

  it('applies transforms (map, explode, filter) and splits pages into sink batches', async () => {
    const storage = newStorage();
    const sink = recordingSink(storage, { batchSize: 3 });
    const result = await runPipeline({
      source: countingSource({ total: 6, pageSize: 6 }),
      transforms: [
        (r) => ((r.id as number) % 3 === 0 ? null : r),
        (r) => [r, { ...r, copy: true }],
        (r) => ({ ...r, n: (r.id as number) * 10 }),
      ],
      sink,
    });
    expect(result.recordsRead).toBe(6);
    expect(result.recordsWritten).toBe(8);
    expect(sink.writes()).toBe(3);
    expect(storage.rows.map((r) => `${r.id}${r.copy ? 'c' : ''}`)).toEqual([
      '1',
      '1c',
      '2',
      '2c',
      '4',
      '4c',
      '5',
      '5c',
    ]);
  });

  it('a throwing transform fails the run naming the transform, page and record', async () => {
    const result = await runPipeline({
      source: countingSource({ total: 20, pageSize: 10 }),
      transforms: [
        (r) => r,
        (r) => {
          if (r.id === 13) throw new Error('cannot cast');
          return r;
        },
      ],
      sink: recordingSink(newStorage()),
    });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('TRANSFORM_FAILED');
    expect(result.error?.message).toBe('transforms[1] failed: cannot cast (record 3 of page 2)');
  });

  it('I3: reads at most one page ahead of the sink', async () => {
    let produced = 0;
    let maxAhead = 0;
    let written = 0;
    const source: Source = {
      async *read() {
        for (let p = 0; p < 20; p++) {
          produced++;
          maxAhead = Math.max(maxAhead, produced - written);
          yield { records: [{ p }], bookmark: p };
        }
      },
    };
    const sink: Sink = {
      async write() {
        await new Promise((r) => setTimeout(r, 2));
        written++;
      },
    };
    await runPipeline({ source, sink });
    // The page being written plus one read ahead.
    expect(maxAhead).toBe(2);
  });

  it('I2: pages are written in source order even when reads are slower than writes', async () => {
    const order: number[] = [];
    const source: Source = {
      async *read() {
        for (let p = 0; p < 10; p++) {
          await new Promise((r) => setTimeout(r, 10 - p));
          yield { records: [{ p }] };
        }
      },
    };
    await runPipeline({
      source,
      sink: {
        async write(records) {
          await new Promise((r) => setTimeout(r, Math.random() * 3));
          order.push(records[0]?.p as number);
        },
      },
    });
    expect(order).toEqual([...Array(10).keys()]);
  });

  it('cancellation finishes and checkpoints the current page, then stops', async () => {
    const controller = new AbortController();
    const stateMap = new Map<string, JsonValue>();
    const storage = newStorage();
    const sink = recordingSink(storage);
    const write = sink.write.bind(sink);
    sink.write = async (records, ctx) => {
      if (records[0]?.id === 300) controller.abort();
      await new Promise((r) => setTimeout(r, 5));
      return write(records, ctx);
    };
    const result = await runPipeline({
      source: countingSource({ total: 1000, pageSize: 100 }),
      sink,
      state: testStore(stateMap),
      signal: controller.signal,
      batchSize: 100,
    });
    expect(result.status).toBe('cancelled');
    expect(result.error).toBeUndefined();
    expect(result.pages).toBe(4);
    expect(storage.rows).toHaveLength(400);
    expect(unwrapState(stateMap.get('unnamed::row-0')).bookmark).toEqual({ offset: 400 });
  });

  it('cancellation while waiting on a slow source stops promptly', async () => {
    const controller = new AbortController();
    let pollEndedBy: 'abort' | 'timer' | undefined;
    const source: Source = {
      async *read(ctx) {
        yield { records: [{ a: 1 }], bookmark: 1 };
        // A minute-long poll that honours the signal.
        await new Promise((resolve) => {
          const timer = setTimeout(() => {
            pollEndedBy = 'timer';
            resolve(undefined);
          }, 60_000);
          ctx.signal.addEventListener('abort', () => {
            pollEndedBy = 'abort';
            clearTimeout(timer);
            resolve(undefined);
          });
        });
      },
    };
    setTimeout(() => controller.abort(), 50);
    const result = await runPipeline({
      source,
      sink: recordingSink(newStorage()),
      signal: controller.signal,
    });
    expect(result.status).toBe('cancelled');
    expect(result.checkpoints).toBe(1);
    expect(pollEndedBy).toBe('abort');
  });

  it('an already-aborted signal reads nothing', async () => {
    const source = countingSource({ total: 100 });
    const result = await runPipeline({
      source,
      sink: recordingSink(newStorage()),
      signal: AbortSignal.abort(),
    });
    expect(result.status).toBe('cancelled');
    expect(source.reads).toBe(0);
  });

  it('a second run on a locked key fails fast naming the key and holder', async () => {
    const store = testStore(new Map());
    let unblock: () => void = () => {};
    const gate = new Promise<void>((r) => {
      unblock = r;
    });
    const slow: Source = {
      async *read() {
        await gate;
        yield { records: [{ a: 1 }], bookmark: 1 };
      },
    };
    const first = runPipeline({
      source: slow,
      sink: recordingSink(newStorage()),
      state: store,
      pipeline: 'p',
    });
    await new Promise((r) => setTimeout(r, 10));
    const second = await runPipeline({
      source: countingSource({ total: 1 }),
      sink: recordingSink(newStorage()),
      state: store,
      pipeline: 'p',
    });
    expect(second.status).toBe('failed');
    expect(second.error).toBeInstanceOf(StateLockedError);
    expect(second.error?.message).toContain(
      'state key "p::row-0" is locked by another run (holder: another test run)',
    );
    unblock();
    expect((await first).status).toBe('ok');
    // Released: a third run can take it.
    expect(
      (
        await runPipeline({
          source: countingSource({ total: 1 }),
          sink: recordingSink(newStorage()),
          state: store,
          pipeline: 'p',
        })
      ).status,
    ).toBe('ok');
  });

  it('rejects an invalid state key before running', async () => {
    const result = await runPipeline({
      source: countingSource({ total: 1 }),
      sink: recordingSink(newStorage()),
      state: testStore(new Map()),
      stateKey: 'bad key/with slash',
    });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('STATE_KEY_INVALID');
  });

  it('rejects invalid options with every problem listed', async () => {
    await expect(
      runPipeline({
        source: countingSource({ total: 1 }),
        sink: recordingSink(newStorage()),
        batchSize: 0,
        dlq: { sink: recordingSink(newStorage()), maxFailuresPerPage: -1 },
      }),
    ).rejects.toThrow(
      /batch_size: must be an integer from 1 to 1000000, got 0\n {2}dlq.max_failures_per_page/,
    );
  });

  it('a source error is wrapped as SOURCE_FAILED with the cause kept and the page count', async () => {
    const result = await runPipeline({
      connectors: { source: 'rest' },
      source: countingSource({ total: 500, pageSize: 100, failAtPage: 3 }),
      sink: recordingSink(newStorage()),
    });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('SOURCE_FAILED');
    expect(result.error?.message).toBe('source "rest" failed after 2 pages: injected failure: source page 3');
    expect(result.error?.cause).toBeInstanceOf(Boom);
  });

  it('a non-idempotent write is never retried (I6); an idempotent one is', async () => {
    let calls = 0;
    const flaky = (idempotentWrites: boolean): Sink => ({
      idempotentWrites,
      async write() {
        calls++;
        if (calls === 1) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      },
    });
    const plain = await runPipeline({
      source: countingSource({ total: 1 }),
      sink: flaky(false),
      retry: { baseDelayMs: 1 },
    });
    expect(plain.status).toBe('failed');
    expect(calls).toBe(1);
    calls = 0;
    const keyed = await runPipeline({
      source: countingSource({ total: 1 }),
      sink: flaky(true),
      retry: { baseDelayMs: 1 },
    });
    expect(keyed.status).toBe('ok');
    expect(calls).toBe(2);
  });

  it('retries a retryable flush and state put', async () => {
    let flushes = 0;
    let puts = 0;
    const store = testStore(new Map());
    const put = store.put.bind(store);
    store.put = async (k, v) => {
      if (++puts === 1) throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      await put(k, v);
    };
    const result = await runPipeline({
      source: countingSource({ total: 10 }),
      sink: {
        async write() {},
        async flush() {
          if (++flushes === 1) throw Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' });
        },
      },
      state: store,
      retry: { baseDelayMs: 1 },
    });
    expect(result.status).toBe('ok');
    expect(result.checkpoints).toBe(1);
  });

  it('I5: a throwing progress listener and logger never fail the run; progress events carry counts', async () => {
    const events: ProgressEvent[] = [];
    const result = await runPipeline({
      source: countingSource({ total: 300, pageSize: 100 }),
      sink: recordingSink(newStorage()),
      onProgress: (e) => {
        events.push(e);
        if (e.type === 'page' || e.type === 'checkpoint') throw new Error('UI crashed');
      },
      logger: {
        debug: () => {
          throw new Error('log');
        },
        info: () => {
          throw new Error('log');
        },
        warn: () => {
          throw new Error('log');
        },
        error: () => {
          throw new Error('log');
        },
      },
    });
    expect(result.status).toBe('ok');
    expect(events.map((e) => e.type)).toEqual(['start', 'checkpoint']);

    const ok: ProgressEvent[] = [];
    await runPipeline({
      source: countingSource({ total: 300, pageSize: 100 }),
      sink: recordingSink(newStorage()),
      onProgress: (e) => ok.push(e),
    });
    expect(ok.map((e) => e.type)).toEqual(['start', 'checkpoint', 'checkpoint', 'checkpoint', 'end']);
    expect(ok.at(-1)).toMatchObject({
      status: 'ok',
      recordsWritten: 300,
      pages: 3,
      checkpoints: 3,
      lastBookmark: { offset: 300 },
    });
    expect(ok.at(-1)?.lastCheckpointAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('secrets are redacted from the error a failed run reports and from logs', async () => {
    const lines: string[] = [];
    const stream = { write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream;
    const source: Source = {
      // biome-ignore lint/correctness/useYield: fails before its first page
      async *read(): AsyncGenerator<Page> {
        throw new Error('connect failed to postgres://app:pa55word@db:5432/x with token tok_live_123');
      },
    };
    const { Redactor } = await import('../src/index.js');
    const result = await runPipeline({
      source,
      sink: recordingSink(newStorage()),
      redactor: new Redactor(['tok_live_123']),
      // 'run failed' is a debug line: the caller shows the error it gets in the result (once).
      logger: createConsoleLogger({ stream, level: 'debug' }),
    });
    expect(result.error?.message).toBe(
      'source "source" failed after 0 pages: connect failed to postgres://app:***@db:5432/x with token ***',
    );
    const text = lines.join('');
    expect(text).toContain('run failed');
    expect(text).not.toContain('pa55word');
    expect(text).not.toContain('tok_live_123');
  });

  it('survives a sink write that resolves with nothing and a page of many sink batches', async () => {
    const got: FaucetRecord[][] = [];
    await runPipeline({
      source: countingSource({ total: 10, pageSize: 10 }),
      sink: {
        batchSize: 4,
        async write(records) {
          got.push(records);
        },
      },
    });
    expect(got.map((b) => b.length)).toEqual([4, 4, 2]);
  });
});
