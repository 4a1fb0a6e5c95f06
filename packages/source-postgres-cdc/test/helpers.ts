/**
 * Integration tests talk to a real PostgreSQL named by FAUCET_TEST_POSTGRES_URL (`scripts/services.sh
 * start`, then `eval "$(scripts/services.sh env)"`). Without it they fail in CI (CI or
 * FAUCET_REQUIRE_SERVICES=1) and are skipped, saying why, on a developer machine. Every test file
 * works in a schema of its own, so files run in parallel.
 */
import { randomBytes } from 'node:crypto';
import type { JsonValue, Page, SourceContext } from '@faucet/core';
import { describeWithService } from '@faucet/testkit';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

export const POSTGRES_URL = process.env.FAUCET_TEST_POSTGRES_URL;

/** PostgreSQL of `scripts/services.sh`; see `describeWithService` in @faucet/testkit for the policy. */
export const POSTGRES_SERVICE = {
  service: 'PostgreSQL',
  variable: 'FAUCET_TEST_POSTGRES_URL',
  hint: 'run `bash scripts/services.sh start && eval "$(bash scripts/services.sh env)"` at the repository root',
};

/**
 * Register `register` (which may call describe/it/testSource) when PostgreSQL is configured; else one
 * failing test in CI, or one skipped test that says why on a developer machine.
 */
export function withPostgres(title: string, register: (url: string) => void): void {
  describeWithService(POSTGRES_SERVICE, title, register);
}

/** A schema of this test file's own, created before its tests and dropped after them. */
export function useSchema(url: string | undefined, prefix: string): { name: string; pool: () => pg.Pool } {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  let pool: pg.Pool | undefined;
  beforeAll(async () => {
    if (!url) return;
    pool = new pg.Pool({ connectionString: url, max: 4 });
    await pool.query(`CREATE SCHEMA ${pg.escapeIdentifier(name)}`);
  });
  afterAll(async () => {
    if (!pool) return;
    await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(name)} CASCADE`);
    await pool.end();
  });
  return {
    name,
    pool: () => {
      if (!pool) throw new Error('the schema is not ready (no FAUCET_TEST_POSTGRES_URL?)');
      return pool;
    },
  };
}

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
