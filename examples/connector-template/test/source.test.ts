/** The example source's own behaviour beyond the battery: how API answers map to typed errors. */
import { silentLogger } from '@faucet/core';
import { createExampleSource, exampleSourceConfigSchema } from 'faucet-source-example';
import { describe, expect, it } from 'vitest';

const config = exampleSourceConfigSchema.parse({
  url: 'https://api.example.com/v1/records',
  token: 'tok-123',
});
const ctx = { bookmark: undefined, batchSize: 2, signal: new AbortController().signal, logger: silentLogger };

function answering(status: number, body: unknown, headers: Record<string, string> = {}): typeof fetch {
  return async () => new Response(JSON.stringify(body), { status, headers });
}

async function firstPage(fetchImpl: typeof fetch, options: Partial<typeof config> = {}) {
  const source = createExampleSource({ ...config, ...options }, { fetch: fetchImpl });
  return source.read(ctx)[Symbol.asyncIterator]().next();
}

describe('example source', () => {
  it.each([
    [401, 'AUTH_FAILED', /api.example.com:443 refused the token \(HTTP 401\)/],
    [429, 'RATE_LIMITED', /rate limiting/],
    [503, 'SOURCE_FAILED', /answered HTTP 503/],
  ])('maps HTTP %i to %s naming the server, not the token', async (status, code, message) => {
    const error = await firstPage(answering(status, {}, { 'retry-after': '3' })).catch((e: Error) => e);
    expect(error).toMatchObject({ code, connector: 'example' });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('tok-123');
  });

  it('refuses an answer without a records array', async () => {
    await expect(firstPage(answering(200, { items: [] }))).rejects.toMatchObject({ code: 'SOURCE_FAILED' });
  });

  it('sends the token and starts after start_after on a first run', async () => {
    const seen: { url: string; auth: string | null }[] = [];
    const fetchImpl: typeof fetch = async (input, init) => {
      seen.push({ url: String(input), auth: new Headers(init?.headers).get('authorization') });
      return new Response(JSON.stringify({ records: [{ id: 8 }] }));
    };
    const page = await firstPage(fetchImpl, { start_after: 7 });
    expect(page.value).toEqual({ records: [{ id: 8 }], bookmark: { cursor: 8 } });
    expect(seen).toEqual([
      { url: 'https://api.example.com/v1/records?after=7&limit=2', auth: 'Bearer tok-123' },
    ]);
  });
});
