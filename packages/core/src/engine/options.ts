/** The options and result of `runPipeline`, and the checks made before anything runs. */
import type { ConfigIssue, FaucetError } from '../errors.js';
import type { ProgressListener, RunStatus } from '../observability.js';
import type { Redactor } from '../redact.js';
import type { RetryPolicy } from '../retry.js';
import type {
  FaucetRecord,
  JsonValue,
  Logger,
  RecordErrorPolicy,
  Sink,
  Source,
  StateStore,
  Transform,
} from '../types.js';

export const DEFAULT_BATCH_SIZE = 1000;
export const MAX_BATCH_SIZE = 1_000_000;
export const DEFAULT_LOCK_TTL_MS = 60_000;
export const DEFAULT_CLOSE_GRACE_MS = 5_000;

export interface DlqOptions {
  sink: Sink;
  /** Connector id of the DLQ sink, for labels and logs. */
  connector?: string;
  /** What to do when a whole sink batch fails: stop the run (default) or dead-letter every row. */
  onBatchError?: 'propagate' | 'dlq_all';
  /** Past this many failed rows in one page, finish the page and then fail the run. */
  maxFailuresPerPage?: number;
  /** Past this many failed rows in the run, finish the page and then fail the run. */
  maxFailuresTotal?: number;
}

export type DeliveryMode = 'at_least_once' | 'effectively_once';

export interface RunPipelineOptions {
  source: Source;
  sink: Sink;
  transforms?: readonly Transform[];
  state?: StateStore;
  /** Defaults to `{pipeline}::{row}`; a source that owns its position (`source.stateKey`) wins. */
  stateKey?: string;
  dlq?: DlqOptions;
  /** Page-size hint for the source, and the default sink batch size. Default 1000. */
  batchSize?: number;
  /**
   * `effectively_once` needs a sink with writeIdempotent + lastCommittedToken, a durable state
   * store and no DLQ; pages the sink already committed are skipped on resume.
   */
  delivery?: DeliveryMode;
  /**
   * Store a checkpoint at most this often (milliseconds; default 0: every checkpoint page). Bookmark
   * pages in between are written but neither flushed nor stored; the newest is stored when the
   * interval has passed, at the end of the run and on cancellation. Fewer durable writes, at the cost
   * of redoing up to this much work after a crash (instead of one page). Not with effectively_once.
   */
  checkpointEveryMs?: number;
  /**
   * A record the source cannot decode or a transform cannot convert: fail the run (`fail`, default)
   * or dead-letter it with its position and raw text and go on (`dlq`; needs a dlq, budgets apply).
   */
  onRecordError?: RecordErrorPolicy;
  /** Cancels the run between pages: the current page is finished and checkpointed first. */
  signal?: AbortSignal;
  /** Pipeline name for state keys, labels and DLQ envelopes. Default `unnamed`. */
  pipeline?: string;
  /** Matrix row id. Default `row-0`. */
  row?: string;
  runId?: string;
  /** Connector ids, used as metric labels and in messages. */
  connectors?: { source?: string; sink?: string; state?: string };
  /** Recorded in the state envelope so a later version can migrate its bookmarks. */
  sourceVersion?: string;
  /** The parent record, when this run is a DAG child. */
  parent?: FaucetRecord;
  /** Retries of flush, state put and idempotent writes. `false` turns them off. */
  retry?: Partial<RetryPolicy> | false;
  lockTtlMs?: number;
  /** How long to wait for a source to stop after the run ends before giving up on it. */
  closeGraceMs?: number;
  /** Read the next page while the current one is written (default true). */
  readAhead?: boolean;
  logger?: Logger;
  /** Scrubs secrets from errors, logs and DLQ envelopes. */
  redactor?: Redactor;
  onProgress?: ProgressListener;
}

export interface PipelineResult {
  status: RunStatus;
  runId: string;
  pipeline: string;
  row: string;
  stateKey: string;
  recordsRead: number;
  recordsWritten: number;
  recordsDeadLettered: number;
  pages: number;
  checkpoints: number;
  /** Pages not written because the sink had committed them already (effectively-once). */
  pagesSkipped: number;
  /**
   * Where the state stands at the end: the bookmark of this run's last confirmed checkpoint, or
   * the stored bookmark it resumed from when no page was checkpointed (undefined if neither).
   */
  lastBookmark: JsonValue | undefined;
  startedAt: string;
  durationMs: number;
  /** The original error of a failed run (never a later flush error), secrets redacted. */
  error?: FaucetError;
}

/** Every problem with the options, at once (an empty list when they can run). */
export function validateOptions(options: RunPipelineOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    issues.push({
      path: 'batch_size',
      message: `must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${batchSize}`,
    });
  }
  const sinkBatch = options.sink.batchSize;
  if (sinkBatch !== undefined && (!Number.isSafeInteger(sinkBatch) || sinkBatch < 1)) {
    issues.push({ path: 'sink.batch_size', message: `must be a positive integer, got ${sinkBatch}` });
  }
  for (const key of ['maxFailuresPerPage', 'maxFailuresTotal'] as const) {
    const value = options.dlq?.[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      issues.push({
        path: `dlq.${key === 'maxFailuresPerPage' ? 'max_failures_per_page' : 'max_failures_total'}`,
        message: `must be a non-negative integer, got ${value}`,
      });
    }
  }
  const every = options.checkpointEveryMs;
  if (every !== undefined && (!Number.isFinite(every) || every < 0)) {
    issues.push({ path: 'checkpoint_every', message: `must be a duration of 0 or more, got ${every}` });
  }
  if (every !== undefined && every > 0 && options.delivery === 'effectively_once') {
    issues.push({
      path: 'checkpoint_every',
      message: 'cannot be combined with effectively_once delivery, which commits a watermark with every page',
    });
  }
  if (options.onRecordError === 'dlq' && !options.dlq) {
    issues.push({
      path: 'on_record_error',
      message: 'is dlq, but no dlq is configured: add a dlq block, or set on_record_error: fail',
    });
  }
  if (options.delivery === 'effectively_once') {
    if (!options.sink.writeIdempotent || !options.sink.lastCommittedToken) {
      issues.push({
        path: 'delivery',
        message:
          'effectively_once needs a sink that supports idempotent commits (writeIdempotent and lastCommittedToken); this sink does not',
      });
    }
    if (options.dlq) {
      issues.push({
        path: 'delivery',
        message:
          'effectively_once cannot be combined with a dlq: dead-lettered rows are not part of the atomic commit',
      });
    }
    if (!options.state) {
      issues.push({
        path: 'delivery',
        message: 'effectively_once needs a durable state store; none is configured',
      });
    } else if (!options.state.durable) {
      issues.push({
        path: 'delivery',
        message:
          'effectively_once needs a durable state store; this one (e.g. memory) forgets its state on exit',
      });
    }
  }
  return issues;
}
