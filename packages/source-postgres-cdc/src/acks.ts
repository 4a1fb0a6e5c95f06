/**
 * Which stream position the engine has durably stored (from `onCheckpoint`), so a run ending on its
 * own terms can wait for its last page to be stored (and so confirmed) before it stops.
 */
export interface StoredPositions {
  /** A bookmark at `lsn` is stored. */
  stored(lsn: bigint): void;
  /** Resolves once `lsn` is stored, after `timeoutMs`, or when `signal` aborts, whichever is first. */
  waitFor(lsn: bigint, timeoutMs: number, signal: AbortSignal): Promise<void>;
}

export function createStoredPositions(): StoredPositions {
  /** The newest stored bookmark of this run, and who waits for it. */
  let storedLsn: bigint | undefined;
  const ackWaiters = new Set<() => void>();

  return {
    stored(lsn) {
      if (storedLsn === undefined || lsn > storedLsn) storedLsn = lsn;
      for (const waiter of [...ackWaiters]) waiter();
    },
    waitFor(lsn, timeoutMs, signal) {
      if (storedLsn !== undefined && storedLsn >= lsn) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          ackWaiters.delete(check);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const check = () => {
          if (storedLsn !== undefined && storedLsn >= lsn) done();
        };
        const timer = setTimeout(done, timeoutMs);
        ackWaiters.add(check);
        signal.addEventListener('abort', done, { once: true });
      });
    },
  };
}
