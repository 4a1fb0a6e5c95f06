/** At most `size` holders at once; waiters are served in arrival order. */
export interface Semaphore {
  acquire(): Promise<void>;
  release(): void;
}

export function createSemaphore(size: number): Semaphore {
  let free = Math.max(1, size);
  const waiting: Array<() => void> = [];
  return {
    acquire() {
      if (free > 0) {
        free--;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    release() {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}
