import { type FaucetRecord, type JsonValue, silentLogger } from '@faucet/core';
import { createRestSource } from '@faucet/source-rest';
import { afterEach, describe, expect, it } from 'vitest';
import { json, lastBookmark, readAll, startServer, type TestServer } from './helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('incremental', () => {
  it('a second run sends the cursor, gets only newer records; max on the final page', async () => {
    const data: FaucetRecord[] = [];
    for (let i = 1; i <= 30; i++)
      data.push({ id: i, updated_at: `2025-01-01T00:00:${String(i).padStart(2, '0')}Z` });
    // Unordered: the server returns newest first.
    server = await startServer((req, res) => {
      const since = req.url.searchParams.get('updated_since');
      const page = Number(req.url.searchParams.get('page'));
      const rows = data.filter((r) => since === null || String(r.updated_at) >= since).reverse();
      json(res, rows.slice((page - 1) * 10, page * 10));
    });
    const config = {
      base_url: server.url,
      pagination: { type: 'page_number' as const, page_size: 10 },
      replication_method: { type: 'Incremental' as const, cursor_field: 'updated_at' },
      cursor_param: 'updated_since',
    };
    const first = await readAll(createRestSource(config), undefined, 7);
    expect(first.records).toHaveLength(30);
    expect(first.pages.slice(0, -1).every((p) => p.bookmark === undefined)).toBe(true);
    const bookmark = lastBookmark(first.pages);
    expect(bookmark).toEqual({ cursor: '2025-01-01T00:00:30Z' });

    data.push({ id: 31, updated_at: '2025-01-01T00:00:31Z' }, { id: 32, updated_at: '2025-01-01T00:00:32Z' });
    server.requests.length = 0;
    const second = await readAll(createRestSource(config), JSON.parse(JSON.stringify(bookmark)) as JsonValue);
    expect(server.requests[0]?.url.searchParams.get('updated_since')).toBe('2025-01-01T00:00:30Z');
    // The server's >= returns record 30 again; the strict-greater filter drops it.
    expect(second.records.map((r) => r.id).sort()).toEqual([31, 32]);
    expect(lastBookmark(second.pages)).toEqual({ cursor: '2025-01-01T00:00:32Z' });
  });

  it('start_value is sent on the first run', async () => {
    server = await startServer((_req, res) =>
      json(res, [
        { id: 1, v: 5 },
        { id: 2, v: 9 },
      ]),
    );
    const source = createRestSource({
      base_url: server.url,
      replication_method: { type: 'Incremental', cursor_field: 'v', start_value: 5 },
      cursor_param: 'since',
    });
    const { records, pages } = await readAll(source);
    expect(server.requests[0]?.url.searchParams.get('since')).toBe('5');
    expect(records).toEqual([{ id: 2, v: 9 }]);
    expect(lastBookmark(pages)).toEqual({ cursor: 9 });
  });

  it('conditional requests: validators kept; a 304 writes 0 records, keeps the bookmark', async () => {
    const lastModified = 'Wed, 01 Jan 2025 00:00:00 GMT';
    server = await startServer((req, res) => {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { etag: '"v1"' });
        return res.end();
      }
      json(
        res,
        [
          { id: 1, ts: 1 },
          { id: 2, ts: 2 },
        ],
        200,
        { etag: '"v1"', 'last-modified': lastModified },
      );
    });
    const config = {
      base_url: server.url,
      conditional_requests: true,
      replication_method: { type: 'Incremental' as const, cursor_field: 'ts' },
    };
    const first = await readAll(createRestSource(config));
    expect(first.records).toHaveLength(2);
    const bookmark = lastBookmark(first.pages);
    expect(bookmark).toEqual({ cursor: 2, etag: '"v1"', last_modified: lastModified });
    const second = await readAll(createRestSource(config), bookmark);
    expect(server.requests[1]?.headers['if-none-match']).toBe('"v1"');
    expect(server.requests[1]?.headers['if-modified-since']).toBe(lastModified);
    expect(second.records).toHaveLength(0);
    expect(second.pages).toHaveLength(1);
    expect(second.pages[0]?.bookmark).toEqual(bookmark);
  });
});

describe('time windows', () => {
  it('a backfill killed mid-way resumes at the first unfinished window; every record once', async () => {
    const start = Date.parse('2025-03-01T00:00:00Z');
    const now = start + 60 * 60_000; // 1 hour later: 6 windows of 10 minutes
    const data: FaucetRecord[] = [];
    for (let m = 0; m < 60; m += 1) data.push({ id: m, at: new Date(start + m * 60_000).toISOString() });
    server = await startServer((req, res) => {
      const from = req.url.searchParams.get('from') ?? '';
      const to = req.url.searchParams.get('to') ?? '';
      const page = Number(req.url.searchParams.get('page'));
      const rows = data.filter((r) => String(r.at) >= from && String(r.at) < to);
      json(res, rows.slice((page - 1) * 4, page * 4));
    });
    const config = {
      base_url: server.url,
      pagination: { type: 'page_number' as const, page_size: 4 },
      window: {
        field_param_start: 'from',
        field_param_end: 'to',
        size: '10m',
        start: '2025-03-01T00:00:00Z',
      },
    };
    const written: FaucetRecord[] = [];
    let stored: JsonValue | undefined;
    // Run 1: "killed" after the third window's checkpoint (the engine stored it, then the process died).
    const source = createRestSource(config, { now: () => now });
    const ctx = {
      bookmark: undefined,
      batchSize: 3,
      signal: new AbortController().signal,
      logger: silentLogger,
    };
    let checkpoints = 0;
    for await (const page of source.read(ctx)) {
      written.push(...page.records);
      if (page.bookmark !== undefined) {
        stored = page.bookmark;
        if (++checkpoints === 3) break;
      }
    }
    expect(stored).toEqual({ slices: { completed: '2025-03-01T00:20:00.000Z' } });
    expect(written).toHaveLength(30);
    const before = server.requests.length;
    const resumed = await readAll(createRestSource(config, { now: () => now }), stored, 3);
    written.push(...resumed.records);
    expect(server.requests[before]?.url.searchParams.get('from')).toBe('2025-03-01T00:30:00.000Z');
    expect(written.map((r) => r.id)).toEqual(data.map((r) => r.id));
    expect(lastBookmark(resumed.pages)).toEqual({ slices: { completed: '2025-03-01T00:50:00.000Z' } });
  });
});
