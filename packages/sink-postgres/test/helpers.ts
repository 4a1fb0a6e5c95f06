/**
 * Integration tests talk to a real PostgreSQL named by FAUCET_TEST_POSTGRES_URL (`scripts/services.sh
 * start`, then `eval "$(scripts/services.sh env)"`); `withPostgres` (from @faucet/test-support) fails
 * them in CI without it and skips them, saying why, on a developer machine. Every test file works in a
 * schema of its own (`useSchema`), so files run in parallel.
 */
import pg from 'pg';

export const POSTGRES_URL = process.env.FAUCET_TEST_POSTGRES_URL;
export { useSchema, withPostgres } from '@faucet/test-support';

/** Quote a table name of this schema for SQL. */
export const qualify = (schema: string, table: string): string =>
  `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)}`;
