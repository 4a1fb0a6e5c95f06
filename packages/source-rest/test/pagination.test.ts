import { isFaucetError } from '@faucet/core';
import { createRestSource, nextFromLinkHeader } from '@faucet/source-rest';
import { afterEach, describe, expect, it } from 'vitest';
import { json, makeRecords, readAll, startServer, type TestServer } from './helpers.js';

const all = makeRecords(2500);
const PAGE = 100;
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function ids(records: readonly { id?: unknown }[]): unknown[] {
  return records.map((r) => r.id);
}

describe('pagination over 2,500 records', () => {
  it('page_number: stops on a short page', async () => {
    server = await startServer((req, res) => {
      const page = Number(req.url.searchParams.get('page'));
      const size = Number(req.url.searchParams.get('per_page'));
      json(res, { data: all.slice((page - 1) * size, page * size) });
    });
    const source = createRestSource({
      base_url: server.url,
      path: '/items',
      records_path: '$.data',
      pagination: { type: 'page_number', page_size: PAGE, page_size_param: 'per_page' },
      max_pages: 1000,
    });
    const { records } = await readAll(source);
    expect(ids(records)).toEqual(ids(all));
    expect(server.requests).toHaveLength(26);
  });

  it('page_number without page size: stops on an empty page', async () => {
    server = await startServer((req, res) => {
      const page = Number(req.url.searchParams.get('p'));
      json(res, all.slice(page * PAGE, (page + 1) * PAGE));
    });
    const source = createRestSource({
      base_url: server.url,
      pagination: { type: 'page_number', param: 'p', start_page: 0 },
      max_pages: 1000,
    });
    expect(ids((await readAll(source)).records)).toEqual(ids(all));
  });

  it('offset/limit: stops at total', async () => {
    server = await startServer((req, res) => {
      const offset = Number(req.url.searchParams.get('offset'));
      const limit = Number(req.url.searchParams.get('limit'));
      json(res, { items: all.slice(offset, offset + limit), total: all.length });
    });
    const source = createRestSource({
      base_url: server.url,
      records_path: '$.items',
      pagination: { type: 'offset', limit: 250, total_path: '$.total' },
    });
    expect(ids((await readAll(source)).records)).toEqual(ids(all));
    expect(server.requests).toHaveLength(10);
  });

  it('cursor in a query param and in the body', async () => {
    const handler = (cursor: string | undefined) => {
      const start = cursor ? Number(cursor) : 0;
      const next = start + PAGE < all.length ? String(start + PAGE) : null;
      return { results: all.slice(start, start + PAGE), meta: { next } };
    };
    server = await startServer((req, res) => {
      if (req.method === 'POST') {
        const body = JSON.parse(req.body) as { after?: string; filter?: string };
        expect(body.filter).toBe('x');
        json(res, handler(body.after));
      } else json(res, handler(req.url.searchParams.get('after') ?? undefined));
    });
    const query = createRestSource({
      base_url: server.url,
      records_path: '$.results[*]',
      pagination: { type: 'cursor', cursor_path: '$.meta.next', param: 'after' },
      max_pages: 100,
    });
    expect(ids((await readAll(query)).records)).toEqual(ids(all));
    const body = createRestSource({
      base_url: server.url,
      method: 'POST',
      body: { filter: 'x' },
      records_path: '$.results',
      pagination: { type: 'cursor', cursor_path: '$.meta.next', body_field: 'after' },
    });
    expect(ids((await readAll(body)).records)).toEqual(ids(all));
  });

  it('next link in the body (relative) and the RFC 8288 Link header', async () => {
    server = await startServer((req, res) => {
      const start = Number(req.url.searchParams.get('from') ?? 0);
      const more = start + PAGE < all.length;
      const next = `/items?from=${start + PAGE}`;
      if (req.url.pathname === '/linked') {
        const link = more ? `<${server?.url}/linked?from=${start + PAGE}>; rel="next", <x>; rel="last"` : '';
        json(res, all.slice(start, start + PAGE), 200, link ? { link } : {});
      } else json(res, { data: all.slice(start, start + PAGE), links: { next: more ? next : null } });
    });
    const body = createRestSource({
      base_url: server.url,
      path: '/items',
      records_path: '$.data',
      pagination: { type: 'next_link', next_link_path: '$.links.next' },
    });
    expect(ids((await readAll(body)).records)).toEqual(ids(all));
    const header = createRestSource({
      base_url: server.url,
      path: '/linked',
      pagination: { type: 'link_header' },
    });
    expect(ids((await readAll(header)).records)).toEqual(ids(all));
  });

  it('a repeated cursor is stopped with a clear error; max_pages holds', async () => {
    server = await startServer((req, res) => {
      const after = req.url.searchParams.get('after');
      json(res, { data: [{ id: after ?? 'first' }], next: after === null ? 'a' : after === 'a' ? 'b' : 'a' });
    });
    const source = createRestSource({
      base_url: server.url,
      records_path: '$.data',
      pagination: { type: 'cursor', cursor_path: '$.next', param: 'after' },
    });
    const error = await readAll(source).catch((e: unknown) => e);
    expect(isFaucetError(error)).toBe(true);
    expect((error as Error).message).toMatch(/returned cursor "a" again after 3 pages/);

    const more = await startServer((req, res) => json(res, [{ page: req.url.searchParams.get('page') }]));
    try {
      const limited = createRestSource({
        base_url: more.url,
        pagination: { type: 'page_number' },
        max_pages: 7,
      });
      expect((await readAll(limited)).records).toHaveLength(7);
      expect(more.requests).toHaveLength(7);
    } finally {
      await more.close();
    }
  });

  it('parses Link headers', () => {
    expect(nextFromLinkHeader('<https://a/x?p=2>; rel="next"')).toBe('https://a/x?p=2');
    expect(nextFromLinkHeader('<https://a/1>; rel="prev", <https://a/3>; rel=next')).toBe('https://a/3');
    expect(nextFromLinkHeader('<https://a/1>; rel="last"')).toBeUndefined();
  });
});
