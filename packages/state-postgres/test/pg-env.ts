/** The PostgreSQL of `scripts/services.sh` for this package's integration tests (see @faucet/test-support). */
import { withPostgres } from '@faucet/test-support';
import { Pool } from 'pg';

/** `describe(title, …)` with the PostgreSQL URL, or a failing / skipped stand-in when there is none. */
export const describeWithPostgres = withPostgres;

/** A pool for the tests' own queries (setup, inspection, cleanup). */
export function testPool(url: string): Pool {
  return new Pool({ connectionString: url, max: 3 });
}
