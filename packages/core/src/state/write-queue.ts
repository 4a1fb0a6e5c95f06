/**
 * Writes of one key, one after another. A state store whose writes can overtake each other (a file
 * rename racing another, two pooled connections) runs every put and delete of a key through this,
 * so the last call wins, as callers expect; writes of different keys still run side by side.
 */
export interface KeyedWriteQueue {
  /** Run `task` once every earlier task of `key` has settled (whether it failed or not). */
  run(key: string, task: () => Promise<void>): Promise<void>;
  /** Settles once every task queued so far has settled (for `close()`). */
  settled(): Promise<void>;
}

export function createKeyedWriteQueue(): KeyedWriteQueue {
  const tails = new Map<string, Promise<void>>();
  return {
    run(key, task) {
      const previous = tails.get(key) ?? Promise.resolve();
      const next = previous.then(task, task);
      tails.set(key, next);
      const forget = (): void => {
        if (tails.get(key) === next) tails.delete(key);
      };
      void next.then(forget, forget);
      return next;
    },
    async settled() {
      await Promise.allSettled([...tails.values()]);
    },
  };
}
