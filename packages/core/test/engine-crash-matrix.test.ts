/**
 * The crash matrix (ARCHITECTURE §3, I1/I2/I4): 10,000 records in pages of 100, each page a
 * checkpoint. A failure is injected at every point of the run loop, at the first, a middle and the
 * last page; then a second run resumes on the same state store. Whatever happened, the sink ends
 * up holding every record, duplicates are at most one page, and the stored bookmark is the last one.
 */
import { describe, expect, it } from 'vitest';
import { type JsonValue, type RunPipelineOptions, runPipeline, unwrapState } from '../src/index.js';
import {
  Boom,
  countingSource,
  duplicateCount,
  missingIds,
  newStorage,
  type RecordingSinkOptions,
  recordingSink,
  testStore,
} from './doubles.js';

const TOTAL = 10_000;
const PAGE = 100;
const PAGES = TOTAL / PAGE;
const KEY = 'matrix::row-0';

interface Injection {
  name: string;
  source?: { failAtPage?: number };
  sink?: RecordingSinkOptions;
  dlqSink?: RecordingSinkOptions;
  store?: { failPutAt?: number };
  /** Abort the run's signal during this flush (between flush and state put). */
  cancelAtFlush?: number;
  withDlq?: boolean;
  expectStatus: 'failed' | 'cancelled';
  /** Most duplicates this failure may cause. */
  maxDuplicates: number;
}

function injections(k: number): Injection[] {
  return [
    {
      name: `source throws before page ${k}`,
      source: { failAtPage: k },
      expectStatus: 'failed',
      maxDuplicates: 0,
    },
    { name: `write throws on page ${k}`, sink: { failWriteAt: k }, expectStatus: 'failed', maxDuplicates: 0 },
    // The engine's best-effort flush on the way out may make page k durable without its bookmark.
    {
      name: `flush throws on page ${k}`,
      sink: { failFlushAt: k },
      expectStatus: 'failed',
      maxDuplicates: PAGE,
    },
    {
      name: `crash after flush of page ${k}, before its state put`,
      sink: { failFlushAt: k, failFlushAfterCommit: true },
      expectStatus: 'failed',
      maxDuplicates: PAGE,
    },
    {
      name: `DLQ write throws on page ${k}`,
      withDlq: true,
      dlqSink: { failWriteAt: k },
      expectStatus: 'failed',
      maxDuplicates: PAGE,
    },
    {
      name: `state put throws on page ${k}`,
      store: { failPutAt: k },
      expectStatus: 'failed',
      maxDuplicates: PAGE,
    },
    {
      name: `cancelled between flush and state put of page ${k}`,
      cancelAtFlush: k,
      expectStatus: 'cancelled',
      maxDuplicates: 0,
    },
  ];
}

// Every page has one row the sink rejects, so DLQ scenarios really write dead letters on each page.
const rejectRow = (record: { id?: JsonValue }) => typeof record.id === 'number' && record.id % 100 === 7;

async function runScenario(injection: Injection, delivery: RunPipelineOptions['delivery']) {
  const storage = newStorage();
  const dlqStorage = newStorage();
  const stateMap = new Map<string, JsonValue>();
  const idempotent = delivery === 'effectively_once';
  const controller = new AbortController();

  const first = await runPipeline({
    pipeline: 'matrix',
    source: countingSource({ total: TOTAL, pageSize: PAGE, ...injection.source }),
    sink: recordingSink(storage, {
      idempotent,
      ...(injection.withDlq ? { rejectRow } : {}),
      ...injection.sink,
      ...(injection.cancelAtFlush === undefined
        ? {}
        : { onFlush: (n) => n === injection.cancelAtFlush && controller.abort() }),
    }),
    state: testStore(stateMap, injection.store ?? {}),
    ...(injection.withDlq ? { dlq: { sink: recordingSink(dlqStorage, injection.dlqSink ?? {}) } } : {}),
    batchSize: PAGE,
    signal: controller.signal,
    retry: false,
    ...(delivery ? { delivery } : {}),
  });
  expect(first.status, injection.name).toBe(injection.expectStatus);
  if (injection.expectStatus === 'failed') {
    // The original failure surfaces, not a later flush error.
    expect(first.error?.message).toContain('injected failure');
  }
  // I1: the stored bookmark never runs ahead of what the sink durably holds.
  const stored = unwrapState(stateMap.get(KEY)).bookmark as { offset: number } | undefined;
  const durableIds = new Set(storage.rows.map((r) => r.id as number));
  for (const r of dlqStorage.rows) durableIds.add((r as { payload: { id: number } }).payload.id);
  for (let id = 0; id < (stored?.offset ?? 0); id++) {
    if (!durableIds.has(id))
      throw new Error(
        `${injection.name}: bookmark ${stored?.offset} is ahead of the sink (id ${id} missing)`,
      );
  }

  // Resume: same durable storage and state, fresh instances (the unflushed buffer is gone).
  const second = await runPipeline({
    pipeline: 'matrix',
    source: countingSource({ total: TOTAL, pageSize: PAGE }),
    sink: recordingSink(storage, { idempotent, ...(injection.withDlq ? { rejectRow } : {}) }),
    state: testStore(stateMap),
    ...(injection.withDlq ? { dlq: { sink: recordingSink(dlqStorage) } } : {}),
    batchSize: PAGE,
    retry: false,
    ...(delivery ? { delivery } : {}),
  });
  expect(second.status, `${injection.name}: resumed run`).toBe('ok');

  const delivered = [
    ...storage.rows,
    ...dlqStorage.rows.map((r) => (r as { payload: { id: number } }).payload),
  ];
  expect(missingIds(delivered, TOTAL), `${injection.name}: missing ids`).toEqual([]);
  const dups = duplicateCount(delivered);
  expect(dups, `${injection.name}: duplicates`).toBeLessThanOrEqual(injection.maxDuplicates);
  expect(unwrapState(stateMap.get(KEY)).bookmark, `${injection.name}: final bookmark`).toEqual({
    offset: TOTAL,
  });
  return { first, second, dups };
}

describe('crash matrix: at-least-once', () => {
  for (const k of [1, 50, PAGES]) {
    for (const injection of injections(k)) {
      it(injection.name, async () => {
        const { first } = await runScenario(injection, undefined);
        if (injection.cancelAtFlush !== undefined) {
          // The page being flushed when cancellation arrived was finished and checkpointed.
          expect(first.checkpoints).toBe(k);
          expect(first.lastBookmark).toEqual({ offset: k * PAGE });
        }
      });
    }
  }

  it('a failure on a bookmark-less page re-reads from the last checkpoint only', async () => {
    const storage = newStorage();
    const stateMap = new Map<string, JsonValue>();
    // Bookmarks on the last page only (an unordered REST-style source): a crash re-reads the pass.
    const first = await runPipeline({
      source: countingSource({ total: 1000, pageSize: 100, bookmarks: 'last', failAtPage: 6 }),
      sink: recordingSink(storage),
      state: testStore(stateMap),
      batchSize: 100,
      retry: false,
    });
    expect(first.status).toBe('failed');
    expect(first.checkpoints).toBe(0);
    expect(stateMap.size).toBe(0);
  });
});

describe('crash matrix: effectively-once with an idempotent sink', () => {
  const eoInjections = (k: number): Injection[] => [
    {
      name: `source throws before page ${k}`,
      source: { failAtPage: k },
      expectStatus: 'failed',
      maxDuplicates: 0,
    },
    {
      name: `commit throws on page ${k}`,
      sink: { failCommitAt: k },
      expectStatus: 'failed',
      maxDuplicates: 0,
    },
    {
      name: `crash after commit of page ${k}, before its state put (flush throws)`,
      sink: { failFlushAt: k },
      expectStatus: 'failed',
      maxDuplicates: 0,
    },
    {
      name: `state put throws on page ${k}`,
      store: { failPutAt: k },
      expectStatus: 'failed',
      maxDuplicates: 0,
    },
    {
      name: `cancelled between flush and state put of page ${k}`,
      cancelAtFlush: k,
      expectStatus: 'cancelled',
      maxDuplicates: 0,
    },
  ];
  for (const k of [1, 50, PAGES]) {
    for (const injection of eoInjections(k)) {
      it(`${injection.name}: zero duplicates`, async () => {
        const { second, dups } = await runScenario(injection, 'effectively_once');
        expect(dups).toBe(0);
        if (injection.store?.failPutAt !== undefined || injection.sink?.failFlushAt !== undefined) {
          // The sink was ahead of the state store: the resumed run starts at the sink's watermark.
          expect(second.recordsRead).toBe(TOTAL - k * PAGE);
        }
      });
    }
  }

  it('skips pages the sink committed past the last checkpoint when the source replays deterministically', async () => {
    const storage = newStorage();
    const stateMap = new Map<string, JsonValue>();
    // Checkpoint only on the last page; the sink commits every page with its own token.
    const first = await runPipeline({
      source: countingSource({ total: 1000, pageSize: 100, bookmarks: 'last', failAtPage: 7 }),
      sink: recordingSink(storage, { idempotent: true }),
      state: testStore(stateMap),
      batchSize: 100,
      delivery: 'effectively_once',
      retry: false,
    });
    expect(first.status).toBe('failed');
    expect(storage.rows).toHaveLength(600);
    const second = await runPipeline({
      source: countingSource({ total: 1000, pageSize: 100, bookmarks: 'last' }),
      sink: recordingSink(storage, { idempotent: true }),
      state: testStore(stateMap),
      batchSize: 100,
      delivery: 'effectively_once',
      retry: false,
    });
    expect(second.status).toBe('ok');
    expect(second.pagesSkipped).toBe(6);
    expect(duplicateCount(storage.rows)).toBe(0);
    expect(missingIds(storage.rows, 1000)).toEqual([]);
  });
});

describe('effectively-once preconditions', () => {
  it('refuses a DLQ, a non-durable store and a sink without the capability, all at once', async () => {
    const run = runPipeline({
      source: countingSource({ total: 10 }),
      sink: recordingSink(newStorage()),
      state: testStore(new Map(), { durable: false }),
      dlq: { sink: recordingSink(newStorage()) },
      delivery: 'effectively_once',
    });
    await expect(run).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const error = (await run.catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(
      'delivery: effectively_once needs a sink that supports idempotent commits',
    );
    expect(error.message).toContain('cannot be combined with a dlq');
    expect(error.message).toContain('forgets its state on exit');
  });

  it('refuses a run without any state store', async () => {
    await expect(
      runPipeline({
        source: countingSource({ total: 10 }),
        sink: recordingSink(newStorage(), { idempotent: true }),
        delivery: 'effectively_once',
      }),
    ).rejects.toThrow(/needs a durable state store; none is configured/);
  });
});

describe('failure surfaces', () => {
  it('a failed run reports the original error even when the final best-effort flush fails too', async () => {
    const storage = newStorage();
    const sink = recordingSink(storage, { failWriteAt: 3 });
    const flush = sink.flush?.bind(sink);
    let flushes = 0;
    sink.flush = async () => {
      flushes++;
      if (flushes > 2) throw new Boom('late flush');
      await flush?.();
    };
    const result = await runPipeline({
      source: countingSource({ total: 1000, pageSize: 100 }),
      sink,
      state: testStore(new Map()),
      batchSize: 100,
      retry: false,
    });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toContain('injected failure: write 3');
    expect(result.error?.code).toBe('SINK_WRITE_FAILED');
    expect(result.error?.cause).toBeInstanceOf(Boom);
    expect(result.checkpoints).toBe(2);
  });
});
