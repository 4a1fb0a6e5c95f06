/**
 * Integration tests talk to a real PostgreSQL named by FAUCET_TEST_POSTGRES_URL (`scripts/services.sh
 * start`, then `eval "$(scripts/services.sh env)"`); `withPostgres` (from @faucet/test-support) fails
 * them in CI without it and skips them, saying why, on a developer machine. Every test file works in a
 * schema of its own (`useSchema`), so files run in parallel.
 */
import type { JsonValue, Page, SourceContext } from '@faucet/core';

export const POSTGRES_URL = process.env.FAUCET_TEST_POSTGRES_URL;
export { useSchema, withPostgres } from '@faucet/test-support';

/** Read every page of a source into memory (small test tables only). */
export async function readAll(
  source: { read(ctx: SourceContext): AsyncIterable<Page> },
  options: { bookmark?: JsonValue; batchSize?: number; signal?: AbortSignal } = {},
): Promise<Page[]> {
  const pages: Page[] = [];
  for await (const page of source.read({
    bookmark: options.bookmark,
    batchSize: options.batchSize ?? 1000,
    signal: options.signal ?? new AbortController().signal,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  })) {
    pages.push(page);
  }
  return pages;
}
