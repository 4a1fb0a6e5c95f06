import type { ProgressEvent } from '@faucet/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLiveProgress, progressOf } from '../src/live-progress.js';
import type { InvocationJobProgress } from '../src/types.js';

const job = { row: 'eu', stateKey: 'orders::eu' };

function event(type: ProgressEvent['type'], pages: number): ProgressEvent {
  return {
    type,
    pipeline: 'orders',
    row: 'eu',
    runId: 'r1',
    pages,
    recordsRead: pages * 10,
    recordsWritten: pages * 10,
    recordsDeadLettered: 0,
    checkpoints: pages,
    ratePerSec: 100,
    elapsedMs: pages * 100,
    lastCheckpointAt: '2026-01-01T00:00:00.000Z',
    lastBookmark: { after: [pages * 10] },
  };
}

describe('live progress of a job', () => {
  let sent: InvocationJobProgress[];
  const sink = {
    updateProgress: async (progress: object) => {
      sent.push(progress as InvocationJobProgress);
    },
  };
  const live = () => createLiveProgress(sink, (e) => progressOf(e, job, 'host:1'), 1000);

  beforeEach(() => {
    sent = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('sends the first event at once, then at most one per interval: the newest', async () => {
    const progress = live();
    progress.report(event('start', 0));
    for (let pages = 1; pages <= 5; pages++) progress.report(event('page', pages));
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.map((p) => p.pages)).toEqual([0]);
    await vi.advanceTimersByTimeAsync(999);
    expect(sent.map((p) => p.pages)).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.map((p) => p.pages)).toEqual([0, 5]);
    // Nothing new: nothing sent.
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent).toHaveLength(2);
    await progress.stop();
  });

  it('is marked as live progress, not a final report, and carries no bookmark', async () => {
    const progress = live();
    progress.report(event('checkpoint', 3));
    await progress.stop();
    expect(sent).toEqual([
      {
        kind: 'progress',
        type: 'checkpoint',
        row: 'eu',
        stateKey: 'orders::eu',
        worker: 'host:1',
        pages: 3,
        recordsRead: 30,
        recordsWritten: 30,
        recordsDeadLettered: 0,
        checkpoints: 3,
        ratePerSec: 100,
        elapsedMs: 300,
        lastCheckpointAt: '2026-01-01T00:00:00.000Z',
      },
    ]);
  });

  it('sends nothing after stop(), which waits for a send in flight; end events are not sent', async () => {
    let finish: () => void = () => {};
    const slow = {
      updateProgress: (progress: object) =>
        new Promise<void>((resolve) => {
          finish = () => {
            sent.push(progress as InvocationJobProgress);
            resolve();
          };
        }),
    };
    const progress = createLiveProgress(slow, (e) => progressOf(e, job, 'host:1'), 1000);
    progress.report(event('page', 1));
    progress.report(event('page', 2));
    let stopped = false;
    const stopping = progress.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    progress.report(event('page', 3));
    progress.report(event('end', 3));
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent.map((p) => p.pages)).toEqual([1]);
  });
});
