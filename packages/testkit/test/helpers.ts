import { ConnectionError, type FaucetRecord } from '@faucet/core';
import { isConformanceError, makeDataset, memorySinkStorage, type RuleId } from '@faucet/testkit';

/**
 * For `it.fails`: run a check against a broken double and re-throw only the ConformanceError of the
 * expected rule, naming the connector. Anything else (the check passing, or failing for another
 * reason, e.g. a bug in the check) returns normally, so `it.fails` reports it.
 */
export async function mustBreak(rule: RuleId, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (isConformanceError(error) && error.rule === rule && error.message.includes(`"${error.connector}"`)) {
      throw error;
    }
    console.error(`expected a ConformanceError for rule ${rule}, got:`, error);
  }
}

export const dataset = makeDataset({ count: 120 });
export const records: readonly FaucetRecord[] = dataset.records;

/** A sink destination for the checks: create / reset / read over one storage. */
export function destination(
  make: (storage: ReturnType<typeof memorySinkStorage>) => import('@faucet/core').Sink,
) {
  const storage = memorySinkStorage();
  return {
    storage,
    create: () => make(storage),
    reset: () => {
      storage.rows.length = 0;
      storage.tokens.clear();
      storage.positions.clear();
    },
    read: () => storage.rows,
  };
}

export const closedPort = { host: '127.0.0.1', port: 1, password: 's3cret-pa55' };

/** What a well-behaved connector throws when its server is down. */
export function refused(): ConnectionError {
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  return new ConnectionError('toy: cannot reach 127.0.0.1:1 (ECONNREFUSED)', { cause, connector: 'toy' });
}
