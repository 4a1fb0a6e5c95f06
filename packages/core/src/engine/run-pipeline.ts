/**
 * The run loop. One invocation moves pages from a source to a sink under one state key, and holds
 * the invariants of ARCHITECTURE §3:
 *
 * I1 state is never ahead of the sink: a bookmark is stored only after the page's rows were written
 *    and flushed (and its dead letters flushed), so a crash anywhere re-reads from the last
 *    confirmed page.
 * I2 pages are written strictly in source order; a bookmark is stored only after every earlier page.
 * I3 memory is bounded by page size: the source is read at most one page ahead of the sink.
 * I4 a dead-lettered row is durable before the bookmark that passes it.
 * I5 metrics, spans, logs and progress never fail a run.
 * I6 a non-idempotent write is never retried.
 */
import { randomUUID } from 'node:crypto';
import {
  CancelledError,
  ConfigError,
  ErrorCodes,
  errorMessage,
  FaucetError,
  isFaucetError,
  SinkError,
  SourceError,
  StateError,
  TransformError,
} from '../errors.js';
import { safeLogger, silentLogger } from '../logger.js';
import {
  type ProgressEvent,
  type RunStatus,
  RunTelemetry,
  SpanNames,
  safeProgress,
} from '../observability.js';
import { Redactor } from '../redact.js';
import { type RetryPolicy, retry } from '../retry.js';
import { assertStateKey, pipelineStateKey, stateKeyProblem, unwrapState, wrapState } from '../state/keys.js';
import { composeTransformsInto } from '../transforms/registry.js';
import type { FaucetRecord, JsonValue, Page, ReleaseLock, RowFailure, Sink, WriteResult } from '../types.js';
import {
  type CommitPosition,
  comparePositions,
  decodeCommitToken,
  encodeCommitToken,
} from './commit-token.js';
import { buildEnvelope, type DlqEnvelope, type DlqReason } from './dlq.js';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_LOCK_TTL_MS,
  type PipelineResult,
  type RunPipelineOptions,
  validateOptions,
} from './options.js';
import { stopSource } from './stop-source.js';

/** Thrown inside the loop to stop after the current page; carried out as the run's error. */
class DeferredFailure extends Error {
  constructor(readonly error: FaucetError) {
    super(error.message);
  }
}

function wrapError(error: unknown, make: (message: string, cause: unknown) => FaucetError): FaucetError {
  return isFaucetError(error) ? error : make(errorMessage(error), error);
}

function normaliseFailures(
  result: WriteResult | undefined | void,
  batchLength: number,
  sink: string,
): RowFailure[] {
  const failed = result?.failed;
  if (!failed || failed.length === 0) return [];
  const seen = new Set<number>();
  for (const failure of failed) {
    const index = failure.index;
    if (!Number.isInteger(index) || index < 0 || index >= batchLength || seen.has(index)) {
      throw new SinkError(
        `sink "${sink}" reported an invalid failed row index ${String(index)} for a batch of ${batchLength} rows ` +
          '(indexes must be distinct positions in the batch); this is a bug in the sink',
        { connector: sink, code: ErrorCodes.SINK_WRITE_FAILED },
      );
    }
    seen.add(index);
  }
  return [...failed].sort((a, b) => a.index - b.index);
}

type ApplyTransforms = (record: FaucetRecord, out: FaucetRecord[]) => void;

function applyTransforms(records: FaucetRecord[], apply: ApplyTransforms | undefined, pageNo: number) {
  if (!apply) return records;
  const out: FaucetRecord[] = [];
  for (let i = 0; i < records.length; i++) {
    try {
      apply(records[i] as FaucetRecord, out);
    } catch (error) {
      throw new TransformError(`${errorMessage(error)} (record ${i} of page ${pageNo})`, { cause: error });
    }
  }
  return out;
}

/** Run one pipeline invocation. Resolves with a result (status ok | cancelled | failed); rejects only for invalid options. */
export async function runPipeline(options: RunPipelineOptions): Promise<PipelineResult> {
  const issues = validateOptions(options);
  if (issues.length > 0) throw new ConfigError(issues, { context: 'invalid pipeline options' });

  const startedAt = new Date();
  const t0 = performance.now();
  const pipeline = options.pipeline ?? 'unnamed';
  const row = options.row ?? 'row-0';
  const runId = options.runId ?? randomUUID();
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const sinkBatch = options.sink.batchSize ?? Number.POSITIVE_INFINITY;
  const transforms = options.transforms ?? [];
  const transformChain = transforms.length > 0 ? composeTransformsInto(transforms) : undefined;
  const redactor = options.redactor ?? new Redactor();
  const logger = safeLogger(options.logger ?? silentLogger, redactor, { pipeline, row, run_id: runId });
  const names = {
    source: options.connectors?.source ?? 'source',
    sink: options.connectors?.sink ?? 'sink',
    state: options.connectors?.state ?? 'state',
    dlq: options.dlq?.connector ?? 'dlq',
  };
  const { source, sink, state, dlq } = options;
  const effectivelyOnce = options.delivery === 'effectively_once';
  const stateKey = source.stateKey ?? options.stateKey ?? pipelineStateKey(pipeline, row);
  const retryPolicy: Partial<RetryPolicy> =
    options.retry === false ? { maxAttempts: 1 } : (options.retry ?? {});
  const telemetry = new RunTelemetry({ pipeline, row, ...names }, runId, logger);
  const emit = safeProgress(options.onProgress, logger);
  const cancelSignal = options.signal;
  // Sink calls get their own signal: cancellation lets the current page finish (and checkpoint).
  const teardown = new AbortController();

  const stats = {
    recordsRead: 0,
    recordsWritten: 0,
    recordsDeadLettered: 0,
    pages: 0,
    checkpoints: 0,
    pagesSkipped: 0,
  };
  let lastBookmark: JsonValue | undefined;
  let lastCheckpointAt: string | undefined;
  let dlqDirty = false;

  const progress = (type: ProgressEvent['type'], status?: RunStatus): void => {
    const elapsedMs = performance.now() - t0;
    const event: ProgressEvent = {
      type,
      pipeline,
      row,
      runId,
      ...stats,
      ratePerSec: elapsedMs > 0 ? (stats.recordsWritten * 1000) / elapsedMs : 0,
      elapsedMs,
    };
    if (lastCheckpointAt !== undefined) event.lastCheckpointAt = lastCheckpointAt;
    if (lastBookmark !== undefined) event.lastBookmark = lastBookmark;
    if (status !== undefined) event.status = status;
    emit(event);
  };

  const withRetry = <T>(op: string, fn: () => Promise<T>): Promise<T> =>
    retry(() => fn(), {
      policy: retryPolicy,
      signal: teardown.signal,
      onRetry: ({ attempt, delayMs, error }) =>
        logger.warn(`${op} failed; retrying`, {
          attempt,
          delay_ms: Math.round(delayMs),
          error: errorMessage(error),
        }),
    });

  const flushSink = async (): Promise<void> => {
    if (!sink.flush) return;
    const t = performance.now();
    try {
      await telemetry.span(SpanNames.sinkFlush, { connector: names.sink }, () =>
        withRetry('sink flush', () => (sink.flush as () => Promise<void>).call(sink)),
      );
    } catch (error) {
      telemetry.sinkError();
      throw wrapError(
        error,
        (message, cause) =>
          new SinkError(`sink "${names.sink}" failed to flush: ${message}`, {
            cause,
            connector: names.sink,
            code: ErrorCodes.SINK_FLUSH_FAILED,
          }),
      );
    }
    telemetry.sinkFlush(performance.now() - t);
  };

  const flushDlq = async (): Promise<void> => {
    if (!dlq?.sink.flush || !dlqDirty) return;
    try {
      await withRetry('dlq flush', () => (dlq.sink.flush as () => Promise<void>).call(dlq.sink));
      dlqDirty = false;
    } catch (error) {
      throw new FaucetError(`dlq sink "${names.dlq}" failed to flush: ${errorMessage(error)}`, {
        cause: error,
        code: ErrorCodes.DLQ_WRITE_FAILED,
        connector: names.dlq,
      });
    }
  };

  const keyOf = (partition: string | undefined): string =>
    partition === undefined ? stateKey : `${stateKey}::${partition}`;

  const putState = async (bookmark: JsonValue, nextSeq?: number, partition?: string): Promise<void> => {
    if (!state) return;
    const key = keyOf(partition);
    const value = wrapState({
      bookmark,
      source: { type: names.source, version: options.sourceVersion ?? '0' },
      run_id: runId,
      ...(nextSeq === undefined ? {} : { seq: nextSeq }),
    });
    const t = performance.now();
    try {
      await telemetry.span(SpanNames.statePut, { connector: names.state }, () =>
        withRetry('state put', () => state.put(key, value)),
      );
    } catch (error) {
      throw wrapError(
        error,
        (message, cause) =>
          new StateError(
            `state store "${names.state}" failed to store the bookmark for "${key}": ${message}`,
            {
              cause,
              connector: names.state,
            },
          ),
      );
    }
    telemetry.statePut(performance.now() - t);
    await notifyCheckpoint(bookmark, partition);
  };

  // Only a durably stored bookmark may be acknowledged upstream (ARCHITECTURE §4, CDC).
  const notifyCheckpoint = async (bookmark: JsonValue, partition: string | undefined): Promise<void> => {
    if (!source.onCheckpoint || !state?.durable) return;
    try {
      await source.onCheckpoint(bookmark, partition === undefined ? {} : { partition });
    } catch (error) {
      logger.warn('the source failed to acknowledge a stored checkpoint', { error: errorMessage(error) });
    }
  };

  const checkPartition = (page: Page, pageNo: number): string | undefined => {
    const { partition } = page;
    if (partition === undefined) return undefined;
    const problem = typeof partition === 'string' ? stateKeyProblem(keyOf(partition)) : 'not a string';
    if (problem) {
      throw new SourceError(
        `source "${names.source}" yielded page ${pageNo} with an unusable partition id ${JSON.stringify(partition)}: ${problem}`,
        { connector: names.source },
      );
    }
    if (effectivelyOnce) {
      throw new ConfigError(
        `source "${names.source}" checkpoints partitions separately, which effectively_once delivery does not support; use at_least_once`,
        { context: 'delivery' },
      );
    }
    return partition;
  };

  const writeDeadLetters = async (envelopes: DlqEnvelope[]): Promise<void> => {
    if (!dlq || envelopes.length === 0) return;
    let result: WriteResult | undefined | void;
    try {
      result = await telemetry.span(SpanNames.dlqWrite, { connector: names.dlq }, () =>
        dlq.sink.write(envelopes, { signal: teardown.signal, logger }),
      );
    } catch (error) {
      throw new FaucetError(
        `dlq sink "${names.dlq}" failed to write ${envelopes.length} dead-lettered rows: ${errorMessage(error)}`,
        { cause: error, code: ErrorCodes.DLQ_WRITE_FAILED, connector: names.dlq },
      );
    }
    if (result?.failed && result.failed.length > 0) {
      throw new FaucetError(
        `dlq sink "${names.dlq}" rejected ${result.failed.length} of ${envelopes.length} dead-lettered rows: ` +
          errorMessage(result.failed[0]?.error),
        { code: ErrorCodes.DLQ_WRITE_FAILED, connector: names.dlq },
      );
    }
    dlqDirty = true;
    stats.recordsDeadLettered += envelopes.length;
    telemetry.dlqRecords(envelopes.length);
  };

  /** Write one sink batch; returns its per-row failures (after the on_batch_error policy). */
  const writeBatch = async (
    batch: FaucetRecord[],
    commit: CommitPosition | undefined,
  ): Promise<{ failures: RowFailure[]; reason: DlqReason }> => {
    const t = performance.now();
    let result: WriteResult | undefined | void;
    try {
      result = await telemetry.span(
        SpanNames.sinkWrite,
        { connector: names.sink, records: batch.length },
        () => {
          const ctx = { signal: teardown.signal, logger };
          if (commit) {
            const token = encodeCommitToken(commit);
            return withRetry('sink commit', async () =>
              (sink.writeIdempotent as NonNullable<Sink['writeIdempotent']>).call(
                sink,
                batch,
                { scope: stateKey, token },
                ctx,
              ),
            );
          }
          // I6: only a sink that declares idempotent writes is retried; others would duplicate rows.
          return sink.idempotentWrites
            ? withRetry('sink write', () => sink.write(batch, ctx))
            : sink.write(batch, ctx);
        },
      );
    } catch (error) {
      telemetry.sinkError();
      if (dlq && dlq.onBatchError === 'dlq_all') {
        logger.warn('sink batch failed; dead-lettering every row of it (on_batch_error: dlq_all)', {
          rows: batch.length,
          error: errorMessage(error),
        });
        return { failures: batch.map((_, index) => ({ index, error: error as Error })), reason: 'dlq_all' };
      }
      throw wrapError(
        error,
        (message, cause) =>
          new SinkError(`sink "${names.sink}" failed to write a batch of ${batch.length} rows: ${message}`, {
            cause,
            connector: names.sink,
          }),
      );
    }
    const failures = normaliseFailures(result, batch.length, names.sink);
    telemetry.sinkWrite(batch.length - failures.length, performance.now() - t);
    return { failures, reason: 'partial' };
  };

  let totalFailures = 0;
  const checkpointEvery = options.checkpointEveryMs ?? 0;
  /** Checkpoints written but not yet flushed and stored (checkpoint_every), newest per partition. */
  const deferred = new Map<string, { bookmark: JsonValue; partition: string | undefined }>();
  let lastStoredAt = Number.NEGATIVE_INFINITY;
  /** Flush, then store every deferred checkpoint (I1/I4: rows and dead letters durable first). */
  const storeDeferred = async (): Promise<void> => {
    if (deferred.size === 0) return;
    await flushSink();
    await flushDlq();
    for (const [key, { bookmark, partition }] of [...deferred]) {
      await putState(bookmark, undefined, partition);
      deferred.delete(key);
      stats.checkpoints++;
      lastBookmark = bookmark;
      lastCheckpointAt = new Date().toISOString();
    }
    lastStoredAt = performance.now();
  };
  let committed: CommitPosition | undefined;
  let position: CommitPosition = { seq: 0, sub: 0, bookmark: undefined };

  /** Write one page; true when its checkpoint was stored. */
  const processPage = async (page: Page, pageNo: number): Promise<boolean> => {
    stats.pages++;
    stats.recordsRead += page.records.length;
    const records = applyTransforms(page.records, transformChain, pageNo);
    if (transforms.length > 0) telemetry.transformed(records.length);
    const hasBookmark = page.bookmark !== undefined;
    const partition = checkPartition(page, pageNo);

    if (effectivelyOnce) {
      // Each page is one atomic commit; a checkpoint page moves the resume bookmark forward.
      position = hasBookmark
        ? { seq: position.seq + 1, sub: 0, bookmark: page.bookmark }
        : { seq: position.seq, sub: position.sub + 1, bookmark: position.bookmark };
      if (committed && comparePositions(position, committed) <= 0) {
        stats.pagesSkipped++;
        telemetry.pagesSkipped(1);
      } else if (records.length > 0 || hasBookmark) {
        const { failures } = await writeBatch(records, position);
        if (failures.length > 0) {
          throw new FaucetError(
            `sink "${names.sink}" rejected ${failures.length} rows of page ${pageNo} in effectively_once mode, ` +
              `where rows cannot be dead-lettered (first: row ${failures[0]?.index}: ${errorMessage(failures[0]?.error)})`,
            { code: ErrorCodes.ROWS_FAILED_WITHOUT_DLQ, connector: names.sink },
          );
        }
        stats.recordsWritten += records.length;
      }
      if (hasBookmark) {
        await flushSink();
        await putState(page.bookmark as JsonValue, position.seq);
        stats.checkpoints++;
        lastBookmark = page.bookmark;
        lastCheckpointAt = new Date().toISOString();
      }
      return hasBookmark;
    }

    const envelopes: DlqEnvelope[] = [];
    let pageFailures = 0;
    let firstFailure: { index: number; error: unknown } | undefined;
    for (let offset = 0; offset < records.length; offset += Math.min(sinkBatch, records.length)) {
      const batch =
        offset === 0 && sinkBatch >= records.length ? records : records.slice(offset, offset + sinkBatch);
      const { failures, reason } = await writeBatch(batch, undefined);
      stats.recordsWritten += batch.length - failures.length;
      for (const failure of failures) {
        pageFailures++;
        firstFailure ??= { index: offset + failure.index, error: failure.error };
        if (dlq) {
          envelopes.push(
            buildEnvelope({
              error: failure.error,
              reason,
              payload: batch[failure.index] as FaucetRecord,
              sink: names.sink,
              pipeline,
              row,
              recordIndex: offset + failure.index,
              redactor,
            }),
          );
        }
      }
      if (sinkBatch >= records.length) break;
    }
    if (pageFailures > 0 && !dlq) {
      throw new SinkError(
        `sink "${names.sink}" rejected ${pageFailures} of ${records.length} rows in page ${pageNo} ` +
          `(first: row ${firstFailure?.index}: ${errorMessage(firstFailure?.error)}); ` +
          'configure a dlq to set failed rows aside and keep going',
        { code: ErrorCodes.ROWS_FAILED_WITHOUT_DLQ, connector: names.sink },
      );
    }
    await writeDeadLetters(envelopes);
    totalFailures += pageFailures;

    let budget: FaucetError | undefined;
    if (dlq?.maxFailuresPerPage !== undefined && pageFailures > dlq.maxFailuresPerPage) {
      budget = new FaucetError(
        `page ${pageNo} had ${pageFailures} failed rows, over max_failures_per_page (${dlq.maxFailuresPerPage}); ` +
          'the page was finished and checkpointed, then the run stopped',
        { code: ErrorCodes.DLQ_BUDGET_EXCEEDED },
      );
    } else if (dlq?.maxFailuresTotal !== undefined && totalFailures > dlq.maxFailuresTotal) {
      budget = new FaucetError(
        `the run had ${totalFailures} failed rows, over max_failures_total (${dlq.maxFailuresTotal}); ` +
          'the page was finished and checkpointed, then the run stopped',
        { code: ErrorCodes.DLQ_BUDGET_EXCEEDED },
      );
    }

    // checkpoint_every: a checkpoint is remembered, and stored once the interval has passed (or at
    // the end of the run, or before a budget stops it).
    if (hasBookmark) deferred.set(partition ?? '', { bookmark: page.bookmark as JsonValue, partition });
    let stored = false;
    if (
      budget ||
      (hasBookmark && (checkpointEvery <= 0 || performance.now() - lastStoredAt >= checkpointEvery))
    ) {
      // I1/I4: rows durable, then dead letters durable, then (and only then) the bookmark.
      stored = deferred.size > 0;
      await storeDeferred();
    }
    if (budget) throw new DeferredFailure(budget);
    return stored;
  };

  let release: ReleaseLock | undefined;
  let iterator: AsyncIterator<Page> | undefined;
  let pending: Promise<IteratorResult<Page>> | undefined;
  let status: RunStatus = 'ok';
  let failure: FaucetError | undefined;

  const cancelled = (): boolean => cancelSignal?.aborted === true;

  try {
    if (state) assertStateKey(stateKey);
    if (state?.lock) {
      const lock = state.lock.bind(state);
      release = await lock(stateKey, options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS).catch((error: unknown) => {
        throw wrapError(
          error,
          (message, cause) =>
            new StateError(`state store "${names.state}" failed to lock "${stateKey}": ${message}`, {
              cause,
              connector: names.state,
            }),
        );
      });
    }

    let bookmark: JsonValue | undefined;
    let seq = 0;
    if (state) {
      try {
        const stored = unwrapState(await state.get(stateKey));
        bookmark = stored.bookmark;
        seq = stored.seq;
      } catch (error) {
        throw wrapError(
          error,
          (message, cause) =>
            new StateError(`state store "${names.state}" failed to read "${stateKey}": ${message}`, {
              cause,
              connector: names.state,
            }),
        );
      }
    }
    position = { seq, sub: 0, bookmark };
    lastBookmark = bookmark;

    if (effectivelyOnce) {
      let token: string | undefined;
      try {
        token = await withRetry('sink lastCommittedToken', async () =>
          (sink.lastCommittedToken as NonNullable<Sink['lastCommittedToken']>).call(sink, stateKey),
        );
      } catch (error) {
        throw wrapError(
          error,
          (message, cause) =>
            new SinkError(`sink "${names.sink}" failed to read its last commit token: ${message}`, {
              cause,
              connector: names.sink,
            }),
        );
      }
      const sinkPosition = decodeCommitToken(token);
      if (token !== undefined && token !== null && !sinkPosition) {
        logger.warn(
          'the sink holds a commit token this version cannot read; resuming from the stored state',
          {},
        );
      }
      if (sinkPosition && comparePositions(sinkPosition, position) > 0) {
        // The sink is ahead of the state store (a crash between commit and state put): resume
        // from the sink's own watermark instead of re-sending pages it already holds.
        committed = sinkPosition;
        bookmark = sinkPosition.bookmark;
        position = { seq: sinkPosition.seq, sub: 0, bookmark };
        if (sinkPosition.sub > 0 && !source.deterministic) {
          logger.warn(
            'the sink committed pages past the last checkpoint, but this source does not promise the same pages ' +
              'on a re-read; those pages may be written again',
            { committed_pages: sinkPosition.sub },
          );
          committed = undefined;
        }
        logger.info('resuming from the sink commit watermark (effectively-once)', {
          seq: sinkPosition.seq,
          pages_after_checkpoint: sinkPosition.sub,
        });
        if (sinkPosition.sub === 0 && sinkPosition.bookmark !== undefined) {
          // The sink durably holds this checkpoint: bring the store up to it now, so the state is
          // right even when no further page comes.
          await putState(sinkPosition.bookmark, sinkPosition.seq);
          lastBookmark = sinkPosition.bookmark;
        }
      }
    }
    progress('start');
    if (cancelled()) throw new CancelledError();

    const readContext = {
      bookmark,
      batchSize,
      signal: cancelSignal ?? new AbortController().signal,
      logger,
      durableState: state?.durable === true,
      partitionBookmark: async (partition: string): Promise<JsonValue | undefined> => {
        if (!state) return undefined;
        const key = keyOf(partition);
        const problem = stateKeyProblem(key);
        if (problem) throw new SourceError(`partition id ${JSON.stringify(partition)}: ${problem}`);
        try {
          return unwrapState(await state.get(key)).bookmark;
        } catch (error) {
          throw wrapError(
            error,
            (message, cause) =>
              new StateError(`state store "${names.state}" failed to read "${key}": ${message}`, {
                cause,
                connector: names.state,
              }),
          );
        }
      },
      ...(options.parent === undefined ? {} : { parent: options.parent }),
    };
    try {
      iterator = source.read(readContext)[Symbol.asyncIterator]();
    } catch (error) {
      throw wrapError(
        error,
        (message, cause) =>
          new SourceError(`source "${names.source}" failed to start: ${message}`, {
            cause,
            connector: names.source,
          }),
      );
    }

    const readAhead = options.readAhead !== false;
    // Wait for the next page, or for cancellation while the source is slow to produce one. The abort
    // listener is per wait and removed as soon as the page arrives: racing every page against one
    // long-lived promise would pile up reactions on it and keep every page's records reachable.
    const nextOrAbort = (page: Promise<IteratorResult<Page>>): Promise<IteratorResult<Page> | 'aborted'> => {
      if (!cancelSignal) return page;
      if (cancelSignal.aborted) return Promise.resolve('aborted');
      return new Promise((resolve, reject) => {
        const onAbort = () => resolve('aborted');
        cancelSignal.addEventListener('abort', onAbort, { once: true });
        page.then(
          (value) => {
            cancelSignal.removeEventListener('abort', onAbort);
            resolve(value);
          },
          (error: unknown) => {
            cancelSignal.removeEventListener('abort', onAbort);
            reject(error);
          },
        );
      });
    };
    const next = (): Promise<IteratorResult<Page>> => {
      const p = (iterator as AsyncIterator<Page>).next();
      // The read-ahead may reject while the previous page is still being written; it is awaited later.
      p.catch(() => {});
      return p;
    };

    let pageNo = 0;
    pending = next();
    for (;;) {
      const waitStart = performance.now();
      let step: IteratorResult<Page> | 'aborted';
      try {
        step = await nextOrAbort(pending);
      } catch (error) {
        telemetry.sourceError();
        if (cancelled()) throw new CancelledError();
        throw wrapError(
          error,
          (message, cause) =>
            new SourceError(`source "${names.source}" failed after ${pageNo} pages: ${message}`, {
              cause,
              connector: names.source,
            }),
        );
      }
      if (step === 'aborted') throw new CancelledError();
      pending = undefined;
      if (step.done) break;
      const page = step.value;
      if (!page || !Array.isArray(page.records)) {
        throw new SourceError(
          `source "${names.source}" yielded a page without a records array (page ${pageNo + 1})`,
          {
            connector: names.source,
          },
        );
      }
      telemetry.sourcePage(page.records.length, performance.now() - waitStart);
      pageNo++;
      // I3: at most one page is read ahead, and only once the current page is in hand.
      if (readAhead && !cancelled()) pending = next();
      if (page.records.length > 0 || page.bookmark !== undefined) {
        const stored = await processPage(page, pageNo);
        progress(stored ? 'checkpoint' : 'page');
      }
      if (cancelled()) throw new CancelledError();
      pending ??= next();
    }

    // Normal end: dead letters first, then the sink (ARCHITECTURE §3.4); then a deferred checkpoint.
    await flushDlq();
    await flushSink();
    await storeDeferred();
  } catch (caught) {
    let error = caught instanceof DeferredFailure ? caught.error : caught;
    if (error instanceof CancelledError) {
      status = 'cancelled';
      // The current page was finished and checkpointed; make what was written durable.
      try {
        await flushDlq();
        await flushSink();
        await storeDeferred();
      } catch (flushError) {
        status = 'failed';
        error = flushError;
      }
      if (status === 'cancelled') error = undefined;
    } else {
      status = 'failed';
    }
    if (status === 'failed') {
      failure = redactor.redactError(
        wrapError(error, (message, cause) => new FaucetError(message, { cause, code: ErrorCodes.INTERNAL })),
      );
      // Best effort: keep what can be kept; the original error is what the caller sees (I7 of the Rust original).
      try {
        await flushDlq();
      } catch {}
      try {
        if (sink.flush) await sink.flush();
      } catch {}
      logger.error('run failed', { code: failure.code, error: failure.message });
    }
  } finally {
    await stopSource(iterator, pending, options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS, logger);
    teardown.abort();
    if (release) {
      try {
        await release();
      } catch (error) {
        logger.warn('failed to release the state lock', { key: stateKey, error: errorMessage(error) });
      }
    }
  }

  const durationMs = performance.now() - t0;
  telemetry.finish(status, durationMs, failure);
  progress('end', status);
  const result: PipelineResult = {
    status,
    runId,
    pipeline,
    row,
    stateKey,
    ...stats,
    lastBookmark,
    startedAt: startedAt.toISOString(),
    durationMs,
  };
  if (failure) result.error = failure;
  return result;
}

/** Throw a failed run's error; return the result otherwise. */
export function assertRunOk(result: PipelineResult): PipelineResult {
  if (result.status === 'failed' && result.error) throw result.error;
  return result;
}
