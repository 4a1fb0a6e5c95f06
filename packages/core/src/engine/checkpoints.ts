/**
 * Checkpointing: make written rows durable (sink flush), then dead letters (DLQ flush), then and only
 * then store the bookmark (I1, I4), and tell the source once it is durably stored. With
 * `checkpoint_every`, checkpoints of written pages wait (newest per partition) until the interval has
 * passed, the run ends, or the run stops for a reason it can see.
 */
import { SpanNames } from '../observability.js';
import { wrapState } from '../state/keys.js';
import type { JsonValue, Sink, Source, StateStore } from '../types.js';
import type { DlqWriter } from './dlq-writer.js';
import { failingAs } from './failures.js';
import type { RunContext } from './run-context.js';

export interface Checkpointer {
  flushSink(): Promise<void>;
  /** Store a bookmark whose rows are already durable (no flush here). */
  put(bookmark: JsonValue, options?: { seq?: number; partition?: string }): Promise<void>;
  /** Store a checkpoint of an effectively-once page: flush the sink, store the bookmark with its seq. */
  commitPage(bookmark: JsonValue, seq: number): Promise<void>;
  /**
   * A written page's checkpoint: stored now (after flushing sink and DLQ) unless checkpoint_every
   * says it is not due yet and `force` is false. True when checkpoints were stored.
   */
  offer(
    checkpoint: { bookmark: JsonValue; partition: string | undefined } | undefined,
    force: boolean,
  ): Promise<boolean>;
  /** Flush sink and DLQ, then store every waiting checkpoint (end of run, cancellation, failure). */
  storeWaiting(): Promise<void>;
}

export interface CheckpointerParts {
  source: Source;
  sink: Sink;
  state: StateStore | undefined;
  dlq: DlqWriter;
  sourceVersion: string | undefined;
  checkpointEveryMs: number;
}

export function createCheckpointer(run: RunContext, parts: CheckpointerParts): Checkpointer {
  const { source, sink, state, dlq } = parts;
  const { names, telemetry } = run;
  /** Checkpoints written but not yet flushed and stored, newest per partition. */
  const waiting = new Map<string, { bookmark: JsonValue; partition: string | undefined }>();
  let lastStoredAt = Number.NEGATIVE_INFINITY;

  const flushSink = async (): Promise<void> => {
    const flush = sink.flush;
    if (!flush) return;
    const t = performance.now();
    try {
      await failingAs('sinkFlush', names, {}, () =>
        telemetry.span(SpanNames.sinkFlush, { connector: names.sink }, () =>
          run.withRetry('sink flush', () => flush.call(sink)),
        ),
      );
    } catch (error) {
      telemetry.sinkError();
      throw error;
    }
    telemetry.sinkFlush(performance.now() - t);
  };

  // Only a durably stored bookmark may be acknowledged upstream (ARCHITECTURE §4, CDC).
  const acknowledge = async (bookmark: JsonValue, partition: string | undefined): Promise<void> => {
    if (!source.onCheckpoint || !state?.durable) return;
    try {
      await source.onCheckpoint(bookmark, partition === undefined ? {} : { partition });
    } catch (error) {
      run.logger.warn('the source failed to acknowledge a stored checkpoint', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };

  const put: Checkpointer['put'] = async (bookmark, options = {}) => {
    if (!state) return;
    const key = run.keyOf(options.partition);
    const value = wrapState({
      bookmark,
      source: { type: names.source, version: parts.sourceVersion ?? '0' },
      run_id: run.runId,
      ...(options.seq === undefined ? {} : { seq: options.seq }),
    });
    const t = performance.now();
    await failingAs('statePut', names, { key }, () =>
      telemetry.span(SpanNames.statePut, { connector: names.state }, () =>
        run.withRetry('state put', () => state.put(key, value)),
      ),
    );
    telemetry.statePut(performance.now() - t);
    await acknowledge(bookmark, options.partition);
  };

  const stored = (bookmark: JsonValue): void => {
    run.stats.checkpoints++;
    run.lastBookmark = bookmark;
    run.lastCheckpointAt = new Date().toISOString();
  };

  const storeWaiting = async (): Promise<void> => {
    if (waiting.size === 0) return;
    await flushSink();
    await dlq.flush();
    for (const [key, { bookmark, partition }] of [...waiting]) {
      await put(bookmark, partition === undefined ? {} : { partition });
      waiting.delete(key);
      stored(bookmark);
    }
    lastStoredAt = performance.now();
  };

  return {
    flushSink,
    put,
    async commitPage(bookmark, seq) {
      await flushSink();
      await put(bookmark, { seq });
      stored(bookmark);
    },
    async offer(checkpoint, force) {
      if (checkpoint) waiting.set(checkpoint.partition ?? '', checkpoint);
      const due =
        checkpoint !== undefined &&
        (parts.checkpointEveryMs <= 0 || performance.now() - lastStoredAt >= parts.checkpointEveryMs);
      if (!force && !due) return false;
      const any = waiting.size > 0;
      await storeWaiting();
      return any;
    },
    storeWaiting,
  };
}
