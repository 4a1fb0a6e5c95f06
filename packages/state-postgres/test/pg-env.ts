/**
 * Integration tests need the PostgreSQL of `scripts/services.sh`. Where it is missing they fail in CI (or
 * with FAUCET_REQUIRE_SERVICES=1) and are skipped, saying why, on a developer's machine. Each package
 * reads the variable itself: connector packages never import each other.
 */
import process from 'node:process';
import { Pool } from 'pg';
import { describe, it } from 'vitest';

const VARIABLE = 'FAUCET_TEST_POSTGRES_URL';
const HINT =
  'run `bash scripts/services.sh start && eval "$(bash scripts/services.sh env)"` at the repository root';

function servicesRequired(): boolean {
  const ci = process.env.CI;
  return (
    (ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false') ||
    process.env.FAUCET_REQUIRE_SERVICES === '1'
  );
}

/** `describe(title, …)` with the PostgreSQL URL, or a failing / skipped stand-in when there is none. */
export function describeWithPostgres(title: string, body: (url: string) => void): void {
  const url = process.env[VARIABLE];
  if (url) {
    describe(title, () => body(url));
    return;
  }
  if (servicesRequired()) {
    describe(title, () => {
      it(`needs PostgreSQL: ${VARIABLE} is not set`, () => {
        throw new Error(
          `${VARIABLE} is not set, and this run requires the real services ` +
            `(CI or FAUCET_REQUIRE_SERVICES=1): ${HINT}`,
        );
      });
    });
    return;
  }
  describe.skip(`${title} (skipped: ${VARIABLE} not set; run scripts/services.sh start)`, () => {
    it('needs PostgreSQL', () => {});
  });
}

/** A pool for the tests' own queries (setup, inspection, cleanup). */
export function testPool(url: string): Pool {
  return new Pool({ connectionString: url, max: 3 });
}
