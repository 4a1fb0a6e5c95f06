import { ConfigError, isFaucetError, silentLogger } from '@faucet/core';
import restSource, { createRestSource, extractRecords, inferSchema } from '@faucet/source-rest';
import { instantiate } from '@faucet/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { durationMs } from '../src/config.js';
import { first as jsonPathFirst, select as jsonPathSelect } from '../src/jsonpath.js';
import { json, readAll, startServer, type TestServer } from './helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('JSONPath subset and records', () => {
  const body = { a: { b: [{ c: 1 }, { c: 2 }] }, 'x-y': 3 };
  it('selects', () => {
    expect(jsonPathFirst(body, '$.a.b[1].c')).toBe(2);
    expect(jsonPathSelect(body, '$.a.b[*].c')).toEqual([1, 2]);
    expect(jsonPathFirst(body, "$['x-y']")).toBe(3);
    expect(jsonPathFirst(body, '$.missing.x')).toBeUndefined();
  });
  it('extracts records: path, top-level array, single object', () => {
    expect(extractRecords(body, '$.a.b')).toEqual([{ c: 1 }, { c: 2 }]);
    expect(extractRecords(body, '$.a.b[*]')).toEqual([{ c: 1 }, { c: 2 }]);
    expect(extractRecords([{ id: 1 }], undefined)).toEqual([{ id: 1 }]);
    expect(extractRecords({ id: 1 }, undefined)).toEqual([{ id: 1 }]);
    expect(extractRecords([1], undefined)).toEqual([{ value: 1 }]);
  });
  it('durations', () => {
    expect(durationMs('15m')).toBe(900_000);
    expect(durationMs(2)).toBe(2000);
  });
});

describe('config', () => {
  it('lists every problem', () => {
    let error: unknown;
    try {
      createRestSource({
        base_url: 'nope',
        records_path: 'data[',
        pagination: { type: 'cursor', cursor_path: '$.n' },
      } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/base_url/);
    expect((error as Error).message).toMatch(/pagination/);
  });
  it('refuses an unsupported JSONPath', () => {
    expect(() => createRestSource({ base_url: 'http://x', records_path: '$..deep' })).toThrow(/records_path/);
  });
});

describe('requests', () => {
  it('placeholders, repeated query params, headers, JSON body', async () => {
    server = await startServer((req, res) => json(res, { ok: true, got: req.body }));
    const source = createRestSource({
      base_url: `${server.url}/api/`,
      path: '/orgs/{org}/items',
      path_params: { org: 'a b' },
      method: 'POST',
      headers: { 'x-trace': 't1' },
      query_params: { status: ['open', 'closed'], limit: 5 },
      body: { q: 1 },
    });
    await readAll(source);
    const req = server.requests[0];
    expect(req?.url.pathname).toBe('/api/orgs/a%20b/items');
    expect(req?.url.searchParams.getAll('status')).toEqual(['open', 'closed']);
    expect(req?.headers['x-trace']).toBe('t1');
    expect(JSON.parse(req?.body ?? '')).toEqual({ q: 1 });
  });

  it('a request timeout is a TimeoutError naming the URL', async () => {
    server = await startServer(() => {});
    const source = createRestSource({ base_url: server.url, path: '/slow', timeout_ms: 100, max_retries: 0 });
    const error = await readAll(source).catch((e: unknown) => e);
    expect(isFaucetError(error) && error.code).toBe('TIMEOUT');
    expect((error as Error).message).toContain(`${server.url}/slow`);
  });

  it('cancellation stops a pending request promptly', async () => {
    server = await startServer(() => {});
    const source = createRestSource({ base_url: server.url, timeout_ms: 30_000 });
    const controller = new AbortController();
    const it = source.read({
      bookmark: undefined,
      batchSize: 10,
      signal: controller.signal,
      logger: silentLogger,
    });
    const pending = it[Symbol.asyncIterator]().next();
    setTimeout(() => controller.abort(new Error('stop')), 50);
    // The server never answers and the timeout is 30 s: only the abort can end the request in time.
    await expect(pending).rejects.toBeDefined();
  });
});

describe('partitions', () => {
  it('fans out over values (placeholder and param), one bookmark per partition', async () => {
    server = await startServer((req, res) => {
      const region = req.url.searchParams.get('region') ?? req.url.pathname.split('/')[2];
      json(res, [{ id: `${region}-1`, ts: region === 'eu' ? 5 : 7 }]);
    });
    const byPath = createRestSource({
      base_url: server.url,
      path: '/regions/{region}/items',
      partitions: { placeholder: 'region', values: ['eu', 'us'] },
      replication_method: { type: 'Incremental', cursor_field: 'ts' },
    });
    const first = await readAll(byPath);
    // Partitions are read concurrently: records of different partitions may come in any order.
    expect(first.records.map((r) => r.id).sort()).toEqual(['eu-1', 'us-1']);
    expect(server.requests.map((r) => r.url.pathname).sort()).toEqual([
      '/regions/eu/items',
      '/regions/us/items',
    ]);
    expect(first.pages.every((p) => p.partition === String(p.records[0]?.id).slice(0, 2))).toBe(true);
    const bookmarks = Object.fromEntries(
      first.pages.filter((p) => p.bookmark !== undefined).map((p) => [p.partition, p.bookmark]),
    );
    expect(bookmarks).toEqual({ eu: { cursor: 5 }, us: { cursor: 7 } });
    const byParam = createRestSource({
      base_url: server.url,
      partitions: { param: 'region', values: ['eu', 'us'] },
    });
    expect((await readAll(byParam)).records.map((r) => r.id).sort()).toEqual(['eu-1', 'us-1']);
  });
});

describe('discover and check', () => {
  it('infers a JSON Schema from a sample', async () => {
    server = await startServer((_req, res) =>
      json(res, {
        data: [
          { id: 1, name: 'a', tags: ['x'], meta: { n: 1.5 } },
          { id: 2, name: null },
        ],
      }),
    );
    const source = await instantiate(restSource, {
      base_url: server.url,
      path: '/users',
      records_path: '$.data',
      primary_keys: ['id'],
    });
    await source.check?.();
    const [stream] = (await source.discover?.()) ?? [];
    expect(stream?.name).toBe('users');
    expect(stream?.primaryKeys).toEqual(['id']);
    expect(stream?.schema).toMatchObject({
      type: 'object',
      properties: {
        id: { type: 'integer' },
        name: { type: ['null', 'string'] },
        tags: { type: 'array', items: { type: 'string' } },
        meta: { type: 'object', properties: { n: { type: 'number' } } },
      },
    });
    expect(inferSchema([{ a: 1 }, { a: 1.5 }]).properties).toEqual({ a: { type: 'number' } });
  });
});
