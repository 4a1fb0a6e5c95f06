import { abortableSleep } from '@faucet/core';

/** Spaces request starts at least `1000 / rps` ms apart. */
export function createRateLimiter(
  requestsPerSecond: number | undefined,
  now: () => number,
  sleep: (ms: number, signal: AbortSignal) => Promise<void> = abortableSleep,
): (signal: AbortSignal) => Promise<void> {
  if (requestsPerSecond === undefined) return async () => {};
  const gap = 1000 / requestsPerSecond;
  let next = 0;
  return async (signal) => {
    const at = now();
    const start = Math.max(at, next);
    next = start + gap;
    if (start > at) await sleep(start - at, signal);
  };
}
