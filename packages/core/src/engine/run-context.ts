/**
 * What every part of one run shares: its identity (pipeline, row, run id, state key), connector
 * names for messages and labels, counters, logger, telemetry, the retry wrapper and the progress
 * emitter. Built once by runPipeline and handed to the reader, the page writer and the checkpointer.
 */
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../errors.js';
import { safeLogger, silentLogger } from '../logger.js';
import { type ProgressEvent, type RunStatus, RunTelemetry, safeProgress } from '../observability.js';
import { Redactor } from '../redact.js';
import { type RetryPolicy, retry } from '../retry.js';
import { pipelineStateKey } from '../state/keys.js';
import type { JsonValue, Logger } from '../types.js';
import { DEFAULT_BATCH_SIZE, type RunPipelineOptions } from './options.js';

/** Connector ids, for messages and metric labels. */
export interface RunNames {
  source: string;
  sink: string;
  state: string;
  dlq: string;
}

export interface RunStats {
  recordsRead: number;
  recordsWritten: number;
  recordsDeadLettered: number;
  pages: number;
  checkpoints: number;
  pagesSkipped: number;
}

export interface RunContext {
  readonly pipeline: string;
  readonly row: string;
  readonly runId: string;
  readonly stateKey: string;
  readonly batchSize: number;
  readonly names: RunNames;
  readonly stats: RunStats;
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly telemetry: RunTelemetry;
  /** performance.now() at the start. */
  readonly t0: number;
  readonly startedAt: Date;
  /** Sink calls get their own signal: cancellation lets the current page finish (and checkpoint). */
  readonly teardown: AbortController;
  readonly cancelSignal: AbortSignal | undefined;
  /** The newest stored (or resumed-from) bookmark and when it was stored. */
  lastBookmark: JsonValue | undefined;
  lastCheckpointAt: string | undefined;
  cancelled(): boolean;
  /** Run `fn` under the retry policy, logging each retry as `op failed; retrying`. */
  withRetry<T>(op: string, fn: () => Promise<T>): Promise<T>;
  progress(type: ProgressEvent['type'], status?: RunStatus): void;
  /** The state key of a partition (`{stateKey}::{partition}`), or the run's own key. */
  keyOf(partition: string | undefined): string;
}

export function createRunContext(options: RunPipelineOptions): RunContext {
  const pipeline = options.pipeline ?? 'unnamed';
  const row = options.row ?? 'row-0';
  const runId = options.runId ?? randomUUID();
  const redactor = options.redactor ?? new Redactor();
  const logger = safeLogger(options.logger ?? silentLogger, redactor, { pipeline, row, run_id: runId });
  const names: RunNames = {
    source: options.connectors?.source ?? 'source',
    sink: options.connectors?.sink ?? 'sink',
    state: options.connectors?.state ?? 'state',
    dlq: options.dlq?.connector ?? 'dlq',
  };
  const stateKey = options.source.stateKey ?? options.stateKey ?? pipelineStateKey(pipeline, row);
  const retryPolicy: Partial<RetryPolicy> =
    options.retry === false ? { maxAttempts: 1 } : (options.retry ?? {});
  const emit = safeProgress(options.onProgress, logger);
  const teardown = new AbortController();
  const cancelSignal = options.signal;

  const run: RunContext = {
    pipeline,
    row,
    runId,
    stateKey,
    batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
    names,
    stats: {
      recordsRead: 0,
      recordsWritten: 0,
      recordsDeadLettered: 0,
      pages: 0,
      checkpoints: 0,
      pagesSkipped: 0,
    },
    logger,
    redactor,
    telemetry: new RunTelemetry({ pipeline, row, ...names }, runId, logger),
    t0: performance.now(),
    startedAt: new Date(),
    teardown,
    cancelSignal,
    lastBookmark: undefined,
    lastCheckpointAt: undefined,
    cancelled: () => cancelSignal?.aborted === true,
    withRetry: (op, fn) =>
      retry(() => fn(), {
        policy: retryPolicy,
        signal: teardown.signal,
        onRetry: ({ attempt, delayMs, error }) =>
          logger.warn(`${op} failed; retrying`, {
            attempt,
            delay_ms: Math.round(delayMs),
            error: errorMessage(error),
          }),
      }),
    progress: (type, status) => {
      const elapsedMs = performance.now() - run.t0;
      const event: ProgressEvent = {
        type,
        pipeline,
        row,
        runId,
        ...run.stats,
        ratePerSec: elapsedMs > 0 ? (run.stats.recordsWritten * 1000) / elapsedMs : 0,
        elapsedMs,
      };
      if (run.lastCheckpointAt !== undefined) event.lastCheckpointAt = run.lastCheckpointAt;
      if (run.lastBookmark !== undefined) event.lastBookmark = run.lastBookmark;
      if (status !== undefined) event.status = status;
      emit(event);
    },
    keyOf: (partition) => (partition === undefined ? stateKey : `${stateKey}::${partition}`),
  };
  return run;
}
