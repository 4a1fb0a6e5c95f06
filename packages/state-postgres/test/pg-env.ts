/**
 * Integration tests need the PostgreSQL of `scripts/services.sh`. Where it is missing they fail in CI (or
 * with FAUCET_REQUIRE_SERVICES=1) and are skipped, saying why, on a developer's machine. Each package
 * reads the variable itself: connector packages never import each other.
 */

import { describeWithService } from '@faucet/testkit';
import { Pool } from 'pg';

const SERVICE = {
  service: 'PostgreSQL',
  variable: 'FAUCET_TEST_POSTGRES_URL',
  hint: 'run `bash scripts/services.sh start && eval "$(bash scripts/services.sh env)"` at the repository root',
};

/** `describe(title, …)` with the PostgreSQL URL, or a failing / skipped stand-in when there is none. */
export function describeWithPostgres(title: string, body: (url: string) => void): void {
  describeWithService(SERVICE, title, body);
}

/** A pool for the tests' own queries (setup, inspection, cleanup). */
export function testPool(url: string): Pool {
  return new Pool({ connectionString: url, max: 3 });
}
