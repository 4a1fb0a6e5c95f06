import { isFaucetError } from '@faucet/core';
import { createRestSource } from '@faucet/source-rest';
import { afterEach, describe, expect, it } from 'vitest';
import { json, makeRecords, readAll, startServer, type TestServer } from './helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const SECRET = 'Sup3r-Secret-Client-9';

describe('auth', () => {
  it('oauth2: a token that expires mid-run is refreshed', async () => {
    const records = makeRecords(500);
    let clock = 1_000_000;
    let issued = 0;
    const valid = new Map<string, number>(); // token -> expires at (fake clock)
    server = await startServer((req, res) => {
      if (req.url.pathname === '/token') {
        const form = new URLSearchParams(req.body);
        if (form.get('client_secret') !== SECRET) return json(res, { error: 'invalid_client' }, 401);
        const token = `tok-${++issued}`;
        valid.set(token, clock + 60_000);
        return json(res, { access_token: token, expires_in: 60, token_type: 'bearer' });
      }
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const until = valid.get(token);
      if (until === undefined || clock >= until) return json(res, { error: 'expired' }, 401);
      const page = Number(req.url.searchParams.get('page'));
      clock += 20_000; // each page takes 20 s of (fake) time: the token lasts 3 pages
      json(res, records.slice((page - 1) * 50, page * 50));
    });
    const source = createRestSource(
      {
        base_url: server.url,
        path: '/data',
        pagination: { type: 'page_number', page_size: 50 },
        auth: { type: 'oauth2', token_url: `${server.url}/token`, client_id: 'c', client_secret: SECRET },
      },
      { now: () => clock },
    );
    const { records: read } = await readAll(source);
    expect(read).toHaveLength(500);
    expect(issued).toBeGreaterThanOrEqual(3);
    // Refreshed before expiry (at 90% of the lifetime): no request was refused.
    expect(server.requests.filter((r) => r.url.pathname === '/data')).toHaveLength(11);
  });

  it('a refused client gives an AuthError without the secret', async () => {
    server = await startServer((req, res) => json(res, { error: `bad ${req.body}` }, 401));
    const source = createRestSource({
      base_url: server.url,
      auth: { type: 'oauth2', token_url: `${server.url}/token`, client_id: 'c', client_secret: SECRET },
    });
    const error = await readAll(source).catch((e: unknown) => e);
    expect(isFaucetError(error) && error.code).toBe('AUTH_FAILED');
    expect(String((error as Error).message)).toMatch(/credentials refused \(HTTP 401\)/);
    expect(JSON.stringify(error) + String((error as Error).stack)).not.toContain(SECRET);
  });

  it('a 401 from the API is an AuthError naming the URL, api key masked', async () => {
    server = await startServer((req, res) => json(res, { echo: req.url.search }, 401));
    const source = createRestSource({
      base_url: server.url,
      path: '/v1/things',
      auth: { type: 'api_key', query_param: 'key', value: SECRET },
    });
    const error = (await readAll(source).catch((e: unknown) => e)) as Error;
    expect(isFaucetError(error) && error.code).toBe('AUTH_FAILED');
    expect(error.message).toContain(`GET ${server.url}/v1/things?key=***: HTTP 401`);
    expect(`${error.message}${error.stack}`).not.toContain(SECRET);
    expect(server.requests[0]?.url.searchParams.get('key')).toBe(SECRET);
  });

  it('bearer, basic and api key headers are sent', async () => {
    server = await startServer((req, res) =>
      json(res, { auth: req.headers.authorization, key: req.headers['x-key'] }),
    );
    const read = async (auth: object) =>
      (await readAll(createRestSource({ base_url: server?.url ?? '', auth } as never))).records[0];
    expect(await read({ type: 'bearer', token: 'abc' })).toEqual({ auth: 'Bearer abc' });
    expect(await read({ type: 'basic', username: 'u', password: 'p' })).toEqual({
      auth: `Basic ${Buffer.from('u:p').toString('base64')}`,
    });
    expect(await read({ type: 'api_key', header: 'x-key', value: 'k1' })).toEqual({ key: 'k1' });
  });

  it('token_endpoint: a custom token URL and path', async () => {
    server = await startServer((req, res) => {
      if (req.url.pathname === '/login') return json(res, { result: { jwt: 'j-1' } });
      json(res, [{ auth: req.headers['x-auth'] }]);
    });
    const source = createRestSource({
      base_url: server.url,
      path: '/x',
      auth: {
        type: 'token_endpoint',
        url: `${server.url}/login`,
        body: { user: 'u', password: 'p' },
        token_path: '$.result.jwt',
        header: 'x-auth',
        prefix: 'JWT ',
      },
    });
    expect((await readAll(source)).records).toEqual([{ auth: 'JWT j-1' }]);
    expect(JSON.parse(server.requests[0]?.body ?? '{}')).toEqual({ user: 'u', password: 'p' });
  });
});

describe('resilience', () => {
  it('429 with Retry-After, then 500 twice, then data: waits as told and succeeds', async () => {
    let calls = 0;
    server = await startServer((_req, res) => {
      calls++;
      if (calls === 1) return json(res, { error: 'slow down' }, 429, { 'retry-after': '1' });
      if (calls <= 3) return json(res, { error: 'boom' }, 500);
      json(res, [{ id: 1 }]);
    });
    const waits: number[] = [];
    const source = createRestSource(
      { base_url: server.url, max_retries: 2, retry_backoff_ms: 100 },
      { sleep: async (ms) => void waits.push(ms), random: () => 0.5 },
    );
    expect((await readAll(source)).records).toEqual([{ id: 1 }]);
    // The 429 wait does not use up one of the 2 retries.
    expect(waits).toEqual([1000, 100, 200]);
  });

  it('503 with an HTTP-date Retry-After is honoured', async () => {
    let calls = 0;
    const now = Date.UTC(2025, 0, 1, 0, 0, 0);
    server = await startServer((_req, res) => {
      if (++calls === 1) return json(res, {}, 503, { 'retry-after': new Date(now + 2000).toUTCString() });
      json(res, [{ id: 1 }]);
    });
    const waits: number[] = [];
    const source = createRestSource(
      { base_url: server.url, max_retries: 0 },
      { sleep: async (ms) => void waits.push(ms), now: () => now },
    );
    expect((await readAll(source)).records).toHaveLength(1);
    expect(waits).toEqual([2000]);
  });

  it('an always-failing server: the error names the URL, secrets masked, after max_retries', async () => {
    server = await startServer((_req, res) => json(res, { error: 'x'.repeat(2000) }, 502));
    const waits: number[] = [];
    const source = createRestSource(
      {
        base_url: server.url,
        path: '/v2/list',
        query_params: { tag: ['a', 'b'] },
        auth: { type: 'api_key', query_param: 'api_key', value: SECRET },
        max_retries: 3,
        retry_backoff_ms: 10,
      },
      { sleep: async (ms) => void waits.push(ms), random: () => 0.5 },
    );
    const error = (await readAll(source).catch((e: unknown) => e)) as Error;
    expect(isFaucetError(error) && error.code).toBe('SOURCE_FAILED');
    expect(error.message).toContain(`GET ${server.url}/v2/list?tag=a&tag=b&api_key=***: HTTP 502`);
    expect(error.message.length).toBeLessThan(800);
    expect(`${error.message}${error.stack}${JSON.stringify(error)}`).not.toContain(SECRET);
    expect(server.requests).toHaveLength(4);
    expect(waits).toEqual([10, 20, 40]);
  });

  it('a tolerated status ends the stream cleanly; requests_per_second spaces requests', async () => {
    server = await startServer((req, res) => {
      const page = Number(req.url.searchParams.get('page'));
      if (page === 3) return json(res, { error: 'gone' }, 404);
      json(res, [{ page }]);
    });
    const waits: number[] = [];
    const clock = 0;
    const source = createRestSource(
      {
        base_url: server.url,
        pagination: { type: 'page_number' },
        tolerated_statuses: [404],
        requests_per_second: 4,
      },
      { now: () => clock, sleep: async (ms) => void waits.push(ms) },
    );
    expect((await readAll(source)).records).toEqual([{ page: 1 }, { page: 2 }]);
    expect(waits).toEqual([250, 500]);
  });
});
