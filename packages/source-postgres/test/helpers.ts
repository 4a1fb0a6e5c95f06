/**
 * Integration tests talk to a real PostgreSQL named by FAUCET_TEST_POSTGRES_URL (`scripts/services.sh
 * start`, then `eval "$(scripts/services.sh env)"`); `withPostgres` (from @faucet/test-support) fails
 * them in CI without it and skips them, saying why, on a developer machine. Every test file works in a
 * schema of its own (`useSchema`), so files run in parallel.
 */
import type { JsonValue, Page, SourceContext } from '@faucet/core';

export const POSTGRES_URL = process.env.FAUCET_TEST_POSTGRES_URL;
export { useSchema, withPostgres } from '@faucet/test-support';

type ReadOptions = { bookmark?: JsonValue; batchSize?: number; signal?: AbortSignal };

/** One read of a source, page by page, for tests that stop or pause in the middle. */
export function openRead(
  source: { read(ctx: SourceContext): AsyncIterable<Page> },
  options: ReadOptions = {},
): AsyncIterator<Page> {
  return source
    .read({
      bookmark: options.bookmark,
      batchSize: options.batchSize ?? 1000,
      signal: options.signal ?? new AbortController().signal,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    })
    [Symbol.asyncIterator]();
}

/** Read every page of a source into memory (small test tables only). */
export async function readAll(
  source: { read(ctx: SourceContext): AsyncIterable<Page> },
  options: ReadOptions = {},
): Promise<Page[]> {
  const pages: Page[] = [];
  const iterator = openRead(source, options);
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) pages.push(next.value);
  return pages;
}
