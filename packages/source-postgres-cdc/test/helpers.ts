/**
 * Integration tests talk to a real PostgreSQL named by FAUCET_TEST_POSTGRES_URL (`scripts/services.sh
 * start`, then `eval "$(scripts/services.sh env)"`); `withPostgres` (from @faucet/test-support) fails
 * them in CI without it and skips them, saying why, on a developer machine. Every test file works in a
 * schema of its own (`useSchema`), so files run in parallel.
 */
export const POSTGRES_URL = process.env.FAUCET_TEST_POSTGRES_URL;
export { useSchema, withPostgres } from '@faucet/test-support';
