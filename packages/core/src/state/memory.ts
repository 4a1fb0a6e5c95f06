/**
 * The `memory` state store: a Map in this process, for tests and one-shot runs. It forgets
 * everything on exit (`durable: false`), so effectively-once delivery refuses it.
 */
import { randomUUID } from 'node:crypto';
import process from 'node:process';
import { z } from 'zod';
import { type CreateEnv, defineStateStore } from '../define.js';
import { StateLockedError } from '../errors.js';
import type { JsonValue, ReleaseLock, StateStore } from '../types.js';
import { assertLockTtl, encodeStateValue } from './common.js';
import { assertStateKey } from './keys.js';

export const memoryStateStoreConfigSchema = z.strictObject({}).default({});
export type MemoryStateStoreConfig = z.infer<typeof memoryStateStoreConfigSchema>;

/**
 * A fresh, empty in-memory store. Values are stored as JSON text, so every get returns a new copy.
 * Takes the same `(config, env)` as every plugin factory; it needs neither.
 */
export function createMemoryStateStore(
  _config: MemoryStateStoreConfig = {},
  _env: Partial<CreateEnv> = {},
): StateStore {
  const values = new Map<string, string>();
  const locks = new Map<string, string>();

  return {
    durable: false,

    async get(key) {
      assertStateKey(key);
      const text = values.get(key);
      return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
    },

    async put(key, value) {
      assertStateKey(key);
      values.set(key, encodeStateValue(key, value));
    },

    async delete(key) {
      assertStateKey(key);
      values.delete(key);
    },

    async list(prefix = '') {
      return [...values.keys()].filter((key) => key.startsWith(prefix)).sort();
    },

    async lock(key, ttlMs): Promise<ReleaseLock> {
      assertStateKey(key);
      assertLockTtl(ttlMs);
      if (locks.has(key)) throw new StateLockedError(key, `pid ${process.pid} (this process)`);
      const token = randomUUID();
      locks.set(key, token);
      return async () => {
        if (locks.get(key) === token) locks.delete(key);
      };
    },
  };
}

export const memoryStateStore = defineStateStore<MemoryStateStoreConfig>({
  id: 'memory',
  description: 'Keeps state in memory for the life of the process (tests and one-shot runs; not durable)',
  durable: false,
  configSchema: memoryStateStoreConfigSchema,
  create() {
    return createMemoryStateStore();
  },
});
