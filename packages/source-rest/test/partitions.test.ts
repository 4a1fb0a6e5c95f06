/**
 * Partitions read concurrently: the concurrency limit as the server sees it, bounded memory
 * (backpressure), one state key per partition through runPipeline, a failing partition, cancellation,
 * conditional requests per partition, and the value → id mapping.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  ConfigError,
  createMemoryStateStore,
  type FaucetRecord,
  isFaucetError,
  type JsonValue,
  type Page,
  runPipeline,
  type Sink,
  type StateStore,
  silentLogger,
  stateKeyProblem,
  unwrapState,
} from '@faucet/core';
import { createRestSource } from '@faucet/source-rest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { partitionId } from '../src/partitions.js';
import { json, noSleep, readAll, startServer, type TestServer } from './helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function collectingSink(): { sink: Sink; records: FaucetRecord[] } {
  const records: FaucetRecord[] = [];
  return {
    records,
    sink: {
      async write(batch) {
        records.push(...batch);
      },
    },
  };
}

async function storedBookmarks(state: StateStore): Promise<Record<string, JsonValue | undefined>> {
  const out: Record<string, JsonValue | undefined> = {};
  for (const key of await state.list()) out[key] = unwrapState(await state.get(key)).bookmark;
  return out;
}

/** `/parts/{part}/items` → part. */
const partOf = (url: URL) => decodeURIComponent(url.pathname.split('/')[2] ?? '');

describe('partitions: concurrency and memory', () => {
  it('20 partitions × 3 pages at concurrency 4: every record once, at most 4 requests at once', async () => {
    const parts = Array.from({ length: 20 }, (_, i) => `p${i}`);
    let inFlight = 0;
    let maxInFlight = 0;
    server = await startServer(async (req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await delay(5);
      const part = partOf(req.url);
      const page = Number(req.url.searchParams.get('page'));
      const rows = [1, 2, 3, 4, 5].map((n) => ({ id: `${part}-${n}` }));
      inFlight--;
      json(res, rows.slice((page - 1) * 2, page * 2));
    });
    const source = createRestSource({
      base_url: server.url,
      path: '/parts/{part}/items',
      partitions: { placeholder: 'part', values: parts, concurrency: 4 },
      pagination: { type: 'page_number', page_size: 2 },
    });
    const { records, pages } = await readAll(source, undefined, 2);

    const expected = parts.flatMap((p) => [1, 2, 3, 4, 5].map((n) => `${p}-${n}`));
    expect(records.map((r) => r.id).sort()).toEqual(expected.sort());
    expect(server.requests).toHaveLength(60);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    expect(maxInFlight).toBeGreaterThan(1);
    // Every page names its partition, and a partition's records keep their order.
    for (const page of pages) {
      for (const record of page.records) expect(String(record.id)).toMatch(new RegExp(`^${page.partition}-`));
    }
    for (const part of parts) {
      const own = pages.filter((p) => p.partition === part).flatMap((p) => p.records.map((r) => r.id));
      expect(own).toEqual([1, 2, 3, 4, 5].map((n) => `${part}-${n}`));
    }
    // FullTable: no partition bookmarks (every run reads everything).
    expect(pages.every((p) => p.bookmark === undefined)).toBe(true);
  });

  it('a consumer that stops pulling stops the partitions (bounded queue); return() ends them', async () => {
    server = await startServer((req, res) => {
      const page = Number(req.url.searchParams.get('page'));
      json(res, [{ id: `${req.url.searchParams.get('part')}-${page}` }]);
    });
    const source = createRestSource({
      base_url: server.url,
      partitions: { param: 'part', values: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], concurrency: 4 },
      pagination: { type: 'page_number' },
      max_pages: 1000,
    });
    const iterator = source
      .read({ bookmark: undefined, batchSize: 1, signal: new AbortController().signal, logger: silentLogger })
      [Symbol.asyncIterator]();
    expect((await iterator.next()).value?.records).toHaveLength(1);
    await delay(300);
    // 8,000 pages are there; the partitions stop after the queue (4 pages) and one page each in hand.
    const requested = server.requests.length;
    expect(requested).toBeLessThanOrEqual(20);
    await iterator.return?.(undefined);
    await delay(100);
    expect(server.requests.length).toBe(requested);
  });
});

describe('partitions: state through runPipeline', () => {
  it('Incremental: one key per partition with its own max; the next run sends each its own cursor', async () => {
    const data: Record<string, FaucetRecord[]> = {
      eu: [1, 2, 3, 4, 5].map((n) => ({ id: `eu-${n}`, updated_at: n })),
      us: [10, 11, 12, 13].map((n) => ({ id: `us-${n}`, updated_at: n })),
      'ap south': [20, 21].map((n) => ({ id: `ap-${n}`, updated_at: n })),
    };
    server = await startServer((req, res) => {
      const rows = data[req.url.searchParams.get('region') ?? ''] ?? [];
      const since = req.url.searchParams.get('since');
      const page = Number(req.url.searchParams.get('page'));
      // Unordered, and `>=`: the boundary record comes back and the source's strict filter drops it.
      const kept = rows.filter((r) => since === null || Number(r.updated_at) >= Number(since)).reverse();
      json(res, kept.slice((page - 1) * 2, page * 2));
    });
    const config = {
      base_url: server.url,
      partitions: { param: 'region', values: ['eu', 'us', 'ap south'] },
      pagination: { type: 'page_number' as const, page_size: 2 },
      replication_method: { type: 'Incremental' as const, cursor_field: 'updated_at' },
      cursor_param: 'since',
    };
    const state = createMemoryStateStore();
    const first = collectingSink();
    const run1 = await runPipeline({
      source: createRestSource(config),
      sink: first.sink,
      state,
      pipeline: 'orders',
      batchSize: 3,
    });
    expect(run1.status).toBe('ok');
    expect(first.records).toHaveLength(11);
    expect(await storedBookmarks(state)).toEqual({
      'orders::row-0::ap_20south': { cursor: 21 },
      'orders::row-0::eu': { cursor: 5 },
      'orders::row-0::us': { cursor: 13 },
    });

    data.eu?.push({ id: 'eu-6', updated_at: 6 });
    data.us?.push({ id: 'us-14', updated_at: 14 }, { id: 'us-15', updated_at: 15 });
    server.requests.length = 0;
    const second = collectingSink();
    const run2 = await runPipeline({
      source: createRestSource(config),
      sink: second.sink,
      state,
      pipeline: 'orders',
    });
    expect(run2.status).toBe('ok');
    const firstRequest = (region: string) =>
      server?.requests.find(
        (r) => r.url.searchParams.get('region') === region && r.url.searchParams.get('page') === '1',
      );
    expect(firstRequest('eu')?.url.searchParams.get('since')).toBe('5');
    expect(firstRequest('us')?.url.searchParams.get('since')).toBe('13');
    expect(firstRequest('ap south')?.url.searchParams.get('since')).toBe('21');
    expect(second.records.map((r) => r.id).sort()).toEqual(['eu-6', 'us-14', 'us-15']);
    expect(await storedBookmarks(state)).toEqual({
      'orders::row-0::ap_20south': { cursor: 21 },
      'orders::row-0::eu': { cursor: 6 },
      'orders::row-0::us': { cursor: 15 },
    });
  });

  it('FullTable stores no partition keys', async () => {
    server = await startServer((req, res) => json(res, [{ id: req.url.searchParams.get('p') }]));
    const state = createMemoryStateStore();
    const { sink, records } = collectingSink();
    const result = await runPipeline({
      source: createRestSource({ base_url: server.url, partitions: { param: 'p', values: ['a', 'b'] } }),
      sink,
      state,
    });
    expect(result.status).toBe('ok');
    expect(records.map((r) => r.id).sort()).toEqual(['a', 'b']);
    expect(await state.list()).toEqual([]);
  });

  it('a failing partition fails the run naming it; finished ones keep their keys; a rerun redoes only it', async () => {
    const parts = ['a', 'b', 'c', 'd', 'e'];
    const others = parts.filter((p) => p !== 'c');
    const inner = createMemoryStateStore();
    let releaseBroken: () => void = () => {};
    const othersStored = new Promise<void>((resolve) => {
      releaseBroken = resolve;
    });
    // The broken partition answers only once every other partition's bookmark is stored, so the
    // test does not depend on timing.
    const state: StateStore = {
      ...inner,
      async put(key, value) {
        await inner.put(key, value);
        const keys = await inner.list();
        if (others.every((p) => keys.includes(`orders::row-0::${p}`))) releaseBroken();
      },
    };
    let broken = true;
    server = await startServer(async (req, res) => {
      const part = partOf(req.url);
      if (part === 'c' && broken) {
        await othersStored;
        return json(res, { error: 'boom' }, 500);
      }
      const since = Number(req.url.searchParams.get('since') ?? 0);
      json(
        res,
        [1, 2, 3].map((n) => ({ id: `${part}-${n}`, ts: n })).filter((r) => r.ts >= since),
      );
    });
    const config = {
      base_url: server.url,
      path: '/parts/{part}/items',
      partitions: { placeholder: 'part', values: parts, concurrency: 4 },
      replication_method: { type: 'Incremental' as const, cursor_field: 'ts' },
      cursor_param: 'since',
      auth: { type: 'api_key' as const, query_param: 'key', value: 'k-secret-9731' },
      max_retries: 1,
    };
    const run = (sink: Sink) =>
      runPipeline({ source: createRestSource(config, { sleep: noSleep }), sink, state, pipeline: 'orders' });

    const first = collectingSink();
    const failed = await run(first.sink);
    expect(failed.status).toBe('failed');
    const message = failed.error?.message ?? '';
    expect(message).toContain('partition "c"');
    expect(message).toContain(`${server.url}/parts/c/items?key=***`);
    expect(message).toContain('HTTP 500');
    expect(message).not.toContain('k-secret-9731');
    expect(server.requests.filter((r) => partOf(r.url) === 'c')).toHaveLength(2); // first try + 1 retry
    expect(first.records.map((r) => r.id).sort()).toEqual(
      others.flatMap((p) => [1, 2, 3].map((n) => `${p}-${n}`)).sort(),
    );
    expect(await storedBookmarks(state)).toEqual(
      Object.fromEntries(others.map((p) => [`orders::row-0::${p}`, { cursor: 3 }])),
    );

    broken = false;
    const second = collectingSink();
    const rerun = await run(second.sink);
    expect(rerun.status).toBe('ok');
    expect(second.records.map((r) => r.id).sort()).toEqual(['c-1', 'c-2', 'c-3']);
    expect(await storedBookmarks(state)).toEqual(
      Object.fromEntries(parts.map((p) => [`orders::row-0::${p}`, { cursor: 3 }])),
    );
  });

  it("one partition's failure aborts the others' requests at once", async () => {
    let arrived = 0;
    let closed = 0;
    let allArrived: () => void = () => {};
    const waiting = new Promise<void>((resolve) => {
      allArrived = resolve;
    });
    server = await startServer(async (req, res) => {
      if (partOf(req.url) === 'bad') {
        await waiting;
        return json(res, { error: 'no such tenant' }, 404);
      }
      res.on('close', () => closed++);
      if (++arrived === 3) allArrived(); // and never answer
    });
    const source = createRestSource({
      base_url: server.url,
      path: '/parts/{part}/items',
      partitions: { placeholder: 'part', values: ['slow1', 'slow2', 'bad', 'slow3'], concurrency: 4 },
      timeout_ms: 30_000,
    });
    // The slow partitions never answer (30 s timeout): the failure must abort them, not wait.
    const error = await readAll(source).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /^partition "bad": GET http:\/\/[^ ]+\/parts\/bad\/items: HTTP 404/,
    );
    await vi.waitFor(() => expect(closed).toBe(3));
  });

  it('an error several partitions share (a refused token) names one partition, once', async () => {
    server = await startServer((req, res) => {
      if (req.url.pathname === '/token') return json(res, { error: 'invalid_client' }, 401);
      json(res, []);
    });
    const source = createRestSource({
      base_url: server.url,
      partitions: { param: 'p', values: ['a', 'b', 'c'] },
      auth: {
        type: 'oauth2',
        token_url: `${server.url}/token`,
        client_id: 'id',
        client_secret: 'cs-Secret-1234',
      },
    });
    const error = await readAll(source).catch((e: unknown) => e);
    expect(isFaucetError(error) && error.code).toBe('AUTH_FAILED');
    expect((error as Error).message).toMatch(
      /^partition "[abc]": token request POST http:\/\/127\.0\.0\.1:\d+\/token: credentials refused \(HTTP 401\)$/,
    );
    expect(server.requests.filter((r) => r.url.pathname === '/token')).toHaveLength(1);
  });

  it('cancellation stops every partition promptly', async () => {
    let arrived = 0;
    let closed = 0;
    server = await startServer((_req, res) => {
      arrived++;
      res.on('close', () => closed++);
    });
    const source = createRestSource({
      base_url: server.url,
      partitions: { param: 'p', values: ['a', 'b', 'c', 'd', 'e'], concurrency: 3 },
      timeout_ms: 30_000,
    });
    const controller = new AbortController();
    const pending = source
      .read({ bookmark: undefined, batchSize: 10, signal: controller.signal, logger: silentLogger })
      [Symbol.asyncIterator]()
      .next();
    await vi.waitFor(() => expect(arrived).toBe(3));
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    await vi.waitFor(() => expect(closed).toBe(3));
    expect(arrived).toBe(3);
  });

  it('conditional requests per partition: a 304 leaves that key as it was, the others move', async () => {
    const version: Record<string, number> = { eu: 1, us: 1 };
    server = await startServer((req, res) => {
      const region = req.url.searchParams.get('region') ?? '';
      const v = version[region] ?? 0;
      const etag = `"${region}-v${v}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag });
        return res.end();
      }
      const rows = Array.from({ length: v }, (_, i) => ({ id: `${region}-${i + 1}`, ts: i + 1 }));
      json(res, rows, 200, { etag });
    });
    const config = {
      base_url: server.url,
      partitions: { param: 'region', values: ['eu', 'us'] },
      conditional_requests: true,
      replication_method: { type: 'Incremental' as const, cursor_field: 'ts' },
    };
    const state = createMemoryStateStore();
    const run = (sink: Sink) =>
      runPipeline({ source: createRestSource(config), sink, state, pipeline: 'geo' });
    expect((await run(collectingSink().sink)).status).toBe('ok');
    expect(await storedBookmarks(state)).toEqual({
      'geo::row-0::eu': { cursor: 1, etag: '"eu-v1"' },
      'geo::row-0::us': { cursor: 1, etag: '"us-v1"' },
    });
    const euBefore = await state.get('geo::row-0::eu');

    version.us = 2;
    server.requests.length = 0;
    const second = collectingSink();
    expect((await run(second.sink)).status).toBe('ok');
    const sent = (region: string) =>
      server?.requests.find((r) => r.url.searchParams.get('region') === region)?.headers['if-none-match'];
    expect(sent('eu')).toBe('"eu-v1"');
    expect(sent('us')).toBe('"us-v1"');
    expect(second.records.map((r) => r.id)).toEqual(['us-2']);
    // The 304 partition yielded no page: its stored value (run id, timestamp) is untouched.
    expect(await state.get('geo::row-0::eu')).toEqual(euBefore);
    expect(unwrapState(await state.get('geo::row-0::us')).bookmark).toEqual({ cursor: 2, etag: '"us-v2"' });
  });

  it('without partitionBookmark in the context (no state) every partition starts from start_value', async () => {
    server = await startServer((req, res) => json(res, [{ id: req.url.searchParams.get('p'), ts: 7 }]));
    const source = createRestSource({
      base_url: server.url,
      partitions: { param: 'p', values: ['a', 'b'] },
      replication_method: { type: 'Incremental', cursor_field: 'ts', start_value: 5 },
      cursor_param: 'since',
    });
    const { pages } = await readAll(source);
    expect(server.requests.map((r) => r.url.searchParams.get('since'))).toEqual(['5', '5']);
    const bookmarks = Object.fromEntries(
      pages.filter((p: Page) => p.bookmark !== undefined).map((p) => [p.partition, p.bookmark]),
    );
    expect(bookmarks).toEqual({ a: { cursor: 7 }, b: { cursor: 7 } });
  });
});

describe('partition ids', () => {
  it('keep safe characters and escape the rest reversibly; every id fits a state key', () => {
    expect(partitionId('eu-west.1')).toBe('eu-west.1');
    expect(partitionId('ap south')).toBe('ap_20south');
    expect(partitionId('a_b')).toBe('a_5fb');
    expect(partitionId('x:y/z')).toBe('x_3ay_2fz');
    expect(partitionId('é')).toBe('_c3_a9');
    expect(partitionId('')).toBe('_');
    expect(partitionId(42)).toBe('42');

    const long = 'é'.repeat(60);
    const id = partitionId(long);
    expect(id.length).toBeLessThanOrEqual(100);
    expect(id).toMatch(/^(?:[A-Za-z0-9.-]|_[0-9a-f]{2})+:[0-9a-f]{16}$/);
    expect(partitionId(long)).toBe(id);
    expect(partitionId(`${long}x`)).not.toBe(id);

    const values = ['a b', 'a_20b', 'a_b', 'a:b', 'A B', 'a%20b', '', '_', long, `${long}x`, 'x'.repeat(500)];
    const ids = values.map(partitionId);
    expect(new Set(ids).size).toBe(values.length);
    for (const each of ids) expect(stateKeyProblem(`pipeline::row::${each}`)).toBeUndefined();
  });

  it('two values with one id are a ConfigError naming both', () => {
    const make = (values: (string | number)[]) => () =>
      createRestSource({ base_url: 'http://127.0.0.1:1', partitions: { param: 'p', values } });
    expect(make(['1', 1])).toThrow(ConfigError);
    expect(make(['1', 1])).toThrow('partitions.values: "1" and 1 both map to the partition id "1"');
    expect(make(['eu', 'us', 'eu'])).toThrow('"eu" and "eu" both map to the partition id "eu"');
  });

  it('concurrency must be a whole number of at least 1; window and partitions stay exclusive', () => {
    const base = { base_url: 'http://127.0.0.1:1' };
    expect(() =>
      createRestSource({ ...base, partitions: { param: 'p', values: ['a'], concurrency: 0 } }),
    ).toThrow(/partitions\.concurrency/);
    expect(() =>
      createRestSource({
        ...base,
        partitions: { param: 'p', values: ['a'] },
        window: {
          field_param_start: 'from',
          field_param_end: 'to',
          size: '1h',
          start: '2025-01-01T00:00:00Z',
        },
      }),
    ).toThrow(/window and partitions cannot be combined/);
  });
});
