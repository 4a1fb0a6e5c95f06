/**
 * Integration tests need the Redis of `scripts/services.sh`. Where it is missing they fail in CI (or
 * with FAUCET_REQUIRE_SERVICES=1) and are skipped, saying why, on a developer's machine. Each package
 * reads the variable itself: connector packages never import each other.
 */
import process from 'node:process';
import { Redis } from 'ioredis';
import { describe, it } from 'vitest';

const VARIABLE = 'FAUCET_TEST_REDIS_URL';
const HINT =
  'run `bash scripts/services.sh start && eval "$(bash scripts/services.sh env)"` at the repository root';

function servicesRequired(): boolean {
  const ci = process.env.CI;
  return (
    (ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false') ||
    process.env.FAUCET_REQUIRE_SERVICES === '1'
  );
}

/** `describe(title, …)` with the Redis URL, or a failing / skipped stand-in when there is none. */
export function describeWithRedis(title: string, body: (url: string) => void): void {
  const url = process.env[VARIABLE];
  if (url) {
    describe(title, () => body(url));
    return;
  }
  if (servicesRequired()) {
    describe(title, () => {
      it(`needs Redis: ${VARIABLE} is not set`, () => {
        throw new Error(
          `${VARIABLE} is not set, and this run requires the real services ` +
            `(CI or FAUCET_REQUIRE_SERVICES=1): ${HINT}`,
        );
      });
    });
    return;
  }
  describe.skip(`${title} (skipped: ${VARIABLE} not set; run scripts/services.sh start)`, () => {
    it('needs Redis', () => {});
  });
}

/** Remove every key under a namespace (values and locks), with SCAN like the store itself. */
export async function dropNamespace(url: string, namespace: string): Promise<void> {
  const client = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    await client.quit();
  }
}
