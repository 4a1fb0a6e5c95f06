/**
 * The state stores a run uses: one instance per distinct `state:` block (rows that share a block
 * share the store), closed when the run ends; `--dry-run`, `--limit` and `preview` see them
 * read-only.
 */
import { type CreateEnv, type StateStore, validateConfig } from '@faucet/core';
import type { LoadedConnector } from '../config/load.js';

/** A store that reads through to `inner` and stores nothing (no locks either). */
export function readOnlyStateStore(inner: StateStore): StateStore {
  return {
    durable: inner.durable,
    get: (key) => inner.get(key),
    list: (prefix) => inner.list(prefix),
    async put() {},
    async delete() {},
  };
}

export interface StateStores {
  open(connector: LoadedConnector, env: CreateEnv): Promise<StateStore>;
  closeAll(): Promise<void>;
}

export function createStateStores(): StateStores {
  const open = new Map<string, Promise<StateStore>>();
  return {
    open(connector, env) {
      const key = `${connector.spec.type}\u0000${JSON.stringify(connector.config ?? connector.spec.config)}`;
      let store = open.get(key);
      if (!store) {
        store = (async () => {
          const config =
            connector.config ??
            (await validateConfig(connector.descriptor, connector.spec.config, {
              at: `${connector.spec.at}.config`,
            }));
          return (await connector.descriptor.create(config as never, env)) as StateStore;
        })();
        open.set(key, store);
      }
      return store;
    },
    async closeAll() {
      const stores = [...open.values()];
      open.clear();
      for (const pending of stores) {
        try {
          const store = await pending;
          await store.close?.();
        } catch {
          // a store that failed to open or close has nothing left to release
        }
      }
    },
  };
}
