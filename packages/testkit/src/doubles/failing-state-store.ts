import { createMemoryStateStore, type StateStore } from '@faucet/core';
import { InjectedFailure } from './failing-sink.js';

export interface FailingStateStoreOptions {
  /** Throw on this 1-based put, before the value is stored. */
  failPutAt?: number;
  /** Override `durable` (e.g. to let a shared in-process memory store stand in for a durable one). */
  durable?: boolean;
  error?: (where: string) => Error;
}

export interface FailingStateStore extends StateStore {
  readonly puts: number;
  readonly fired: boolean;
}

/**
 * Wraps a state store (a fresh memory store by default) and fails one put, as a crash between the
 * sink's flush and the bookmark's put would. Share `inner` between runs to model a restart.
 */
export function failingStateStore(
  inner: StateStore = createMemoryStateStore(),
  options: FailingStateStoreOptions = {},
): FailingStateStore {
  let puts = 0;
  let fired = false;
  const store: FailingStateStore = {
    durable: options.durable ?? inner.durable,
    get puts() {
      return puts;
    },
    get fired() {
      return fired;
    },
    get: (key) => inner.get(key),
    async put(key, value) {
      puts++;
      if (!fired && options.failPutAt === puts) {
        fired = true;
        throw options.error ? options.error(`state put ${puts}`) : new InjectedFailure(`state put ${puts}`);
      }
      await inner.put(key, value);
    },
    delete: (key) => inner.delete(key),
    list: (prefix) => inner.list(prefix),
  };
  if (inner.lock) {
    const lock = inner.lock.bind(inner);
    store.lock = (key, ttlMs) => lock(key, ttlMs);
  }
  if (inner.close) {
    const close = inner.close.bind(inner);
    store.close = () => close();
  }
  return store;
}
