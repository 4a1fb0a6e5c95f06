/**
 * A running invocation's progress, put in its job (`job.updateProgress`) at most once per interval
 * (default 1 s) so a submitter following the run can show it as a local run shows its own. Only the
 * newest event counts: one that arrives inside the interval is sent when the interval ends. `stop()`
 * waits for a send in flight, so the final report written after it is never overwritten.
 */
import type { ProgressEvent } from '@faucet/core';
import type { InvocationJobProgress } from './types.js';

export interface ProgressSink {
  updateProgress(progress: object): Promise<void>;
}

export interface LiveProgress {
  /** Give the engine's newest event (the `onProgress` of an invocation). */
  report(event: ProgressEvent): void;
  /** Send nothing more; resolves once a send in flight has ended. */
  stop(): Promise<void>;
}

export const PROGRESS_INTERVAL_MS = 1000;

export function progressOf(
  event: ProgressEvent & { type: InvocationJobProgress['type'] },
  job: { row: string; stateKey: string },
  worker: string,
): InvocationJobProgress {
  return {
    kind: 'progress',
    type: event.type,
    row: job.row,
    stateKey: job.stateKey,
    worker,
    pages: event.pages,
    recordsRead: event.recordsRead,
    recordsWritten: event.recordsWritten,
    recordsDeadLettered: event.recordsDeadLettered,
    checkpoints: event.checkpoints,
    ratePerSec: event.ratePerSec,
    elapsedMs: event.elapsedMs,
    ...(event.lastCheckpointAt ? { lastCheckpointAt: event.lastCheckpointAt } : {}),
  };
}

type LiveEvent = ProgressEvent & { type: InvocationJobProgress['type'] };

export function createLiveProgress(
  sink: ProgressSink,
  describe: (event: LiveEvent) => InvocationJobProgress,
  intervalMs = PROGRESS_INTERVAL_MS,
): LiveProgress {
  let latest: LiveEvent | undefined;
  let lastSentAt = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let stopped = false;

  const send = (): void => {
    timer = undefined;
    if (stopped || !latest) return;
    const progress = describe(latest);
    latest = undefined;
    lastSentAt = performance.now();
    // A lost update is only a missed display refresh; the next one (or the final report) follows.
    inFlight = inFlight.then(() => sink.updateProgress(progress)).catch(() => {});
  };

  return {
    report(event) {
      if (stopped || event.type === 'end') return;
      latest = event as LiveEvent;
      if (timer) return;
      const wait = lastSentAt + intervalMs - performance.now();
      if (wait <= 0) send();
      else timer = setTimeout(send, wait);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await inFlight;
    },
  };
}
