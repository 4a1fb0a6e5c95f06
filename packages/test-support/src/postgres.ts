/** A PostgreSQL schema of a test file's own, so test files run in parallel. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

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
