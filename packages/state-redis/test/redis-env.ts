/** The Redis of `scripts/services.sh` for this package's integration tests (see @faucet/test-support). */
import { withRedis } from '@faucet/test-support';
import { Redis } from 'ioredis';

/** `describe(title, …)` with the Redis URL, or a failing / skipped stand-in when there is none. */
export const describeWithRedis = withRedis;

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
