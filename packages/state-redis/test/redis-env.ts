/**
 * Integration tests need the Redis of `scripts/services.sh`. Where it is missing they fail in CI (or
 * with FAUCET_REQUIRE_SERVICES=1) and are skipped, saying why, on a developer's machine. Each package
 * reads the variable itself: connector packages never import each other.
 */

import { describeWithService } from '@faucet/testkit';
import { Redis } from 'ioredis';

const SERVICE = {
  service: 'Redis',
  variable: 'FAUCET_TEST_REDIS_URL',
  hint: 'run `bash scripts/services.sh start && eval "$(bash scripts/services.sh env)"` at the repository root',
};

/** `describe(title, …)` with the Redis URL, or a failing / skipped stand-in when there is none. */
export function describeWithRedis(title: string, body: (url: string) => void): void {
  describeWithService(SERVICE, title, body);
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
