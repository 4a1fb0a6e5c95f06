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
 *
 * Read top to bottom: take the lock, read the stored bookmark (and, effectively-once, the sink's
 * watermark), then for each page: write it (write-page.ts / effectively-once.ts) and checkpoint it
 * (checkpoints.ts); at the end flush and store what waits. The parts live in their own files.
 */
import {
  CancelledError,
  ConfigError,
  ErrorCodes,
  errorMessage,
  type FaucetError,
  SourceError,
} from '../errors.js';
import type { RunStatus } from '../observability.js';
import { assertStateKey, stateKeyProblem, unwrapState } from '../state/keys.js';
import { composeTransformsInto } from '../transforms/registry.js';
import type { JsonValue, Page, ReleaseLock, SourceContext } from '../types.js';
import { type Checkpointer, createCheckpointer } from './checkpoints.js';
import { createDlqWriter, type DlqWriter } from './dlq-writer.js';
import { createEffectivelyOnceWriter, type EffectivelyOnceWriter } from './effectively-once.js';
import { failingAs, wrapFailure } from './failures.js';
import {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_LOCK_TTL_MS,
  type PipelineResult,
  type RunPipelineOptions,
  validateOptions,
} from './options.js';
import { openPageReader, type PageReader, pagePartition } from './page-reader.js';
import { createRunContext, type RunContext } from './run-context.js';
import { createBatchWriter } from './write-batch.js';
import { createPageWriter, type WritePage } from './write-page.js';

/** Thrown inside the loop to stop after the current page; carried out as the run's error. */
class DeferredFailure extends Error {
  constructor(readonly error: FaucetError) {
    super(error.message);
  }
}

/** The parts one run is made of, built from its options. */
interface RunParts {
  run: RunContext;
  options: RunPipelineOptions;
  checkpointer: Checkpointer;
  dlqWriter: DlqWriter;
  writePage: WritePage;
  effectivelyOnce: EffectivelyOnceWriter | undefined;
}

function assemble(options: RunPipelineOptions): RunParts {
  const run = createRunContext(options);
  const transforms = options.transforms?.length ? composeTransformsInto(options.transforms) : undefined;
  const dlqWriter = createDlqWriter(run, options.dlq);
  const checkpointer = createCheckpointer(run, {
    source: options.source,
    sink: options.sink,
    state: options.state,
    dlq: dlqWriter,
    sourceVersion: options.sourceVersion,
    checkpointEveryMs: options.checkpointEveryMs ?? 0,
  });
  const writeBatch = createBatchWriter(run, options.sink, options.dlq);
  const writePage = createPageWriter(run, {
    writeBatch,
    dlq: options.dlq,
    dlqWriter,
    transforms,
    sinkBatch: options.sink.batchSize ?? Number.POSITIVE_INFINITY,
    onRecordError: options.onRecordError ?? 'fail',
  });
  const effectivelyOnce =
    options.delivery === 'effectively_once'
      ? createEffectivelyOnceWriter(run, {
          source: options.source,
          sink: options.sink,
          writeBatch,
          checkpointer,
          transforms,
        })
      : undefined;
  return { run, options, checkpointer, dlqWriter, writePage, effectivelyOnce };
}

async function takeLock(parts: RunParts): Promise<ReleaseLock | undefined> {
  const { state } = parts.options;
  const { run } = parts;
  if (state) assertStateKey(run.stateKey);
  if (!state?.lock) return undefined;
  const lock = state.lock.bind(state);
  const ttl = parts.options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
  return failingAs('lock', run.names, { key: run.stateKey }, () => lock(run.stateKey, ttl));
}

/** The bookmark to read from: the stored one, or (effectively-once) the sink's watermark when ahead. */
async function startingBookmark(parts: RunParts): Promise<JsonValue | undefined> {
  const { state } = parts.options;
  const { run } = parts;
  let stored: { bookmark: JsonValue | undefined; seq: number } = { bookmark: undefined, seq: 0 };
  if (state) {
    stored = await failingAs('stateRead', run.names, { key: run.stateKey }, async () =>
      unwrapState(await state.get(run.stateKey)),
    );
  }
  run.lastBookmark = stored.bookmark;
  return parts.effectivelyOnce ? parts.effectivelyOnce.resume(stored) : stored.bookmark;
}

function sourceContext(parts: RunParts, bookmark: JsonValue | undefined): SourceContext {
  const { run, options } = parts;
  const { state } = options;
  return {
    bookmark,
    batchSize: run.batchSize,
    signal: run.cancelSignal ?? new AbortController().signal,
    logger: run.logger,
    durableState: state?.durable === true,
    onRecordError: options.onRecordError ?? 'fail',
    partitionBookmark: async (partition: string): Promise<JsonValue | undefined> => {
      if (!state) return undefined;
      const key = run.keyOf(partition);
      const problem = stateKeyProblem(key);
      if (problem) throw new SourceError(`partition id ${JSON.stringify(partition)}: ${problem}`);
      return failingAs(
        'stateRead',
        run.names,
        { key },
        async () => unwrapState(await state.get(key)).bookmark,
      );
    },
    ...(options.parent === undefined ? {} : { parent: options.parent }),
  };
}

/** Write one page and checkpoint it; true when a checkpoint was stored. */
async function processPage(parts: RunParts, page: Page, pageNo: number): Promise<boolean> {
  const { run } = parts;
  run.stats.pages++;
  run.stats.recordsRead += page.records.length;
  const partition = pagePartition(run, page, pageNo, parts.effectivelyOnce !== undefined);
  if (parts.effectivelyOnce) {
    if (page.rejected?.length) {
      throw new SourceError(
        `source "${run.names.source}" could not decode ${page.rejected.length} records in page ${pageNo}, ` +
          'and effectively_once delivery has no dlq to set them aside',
        { connector: run.names.source, code: ErrorCodes.RECORD_INVALID },
      );
    }
    return parts.effectivelyOnce.writePage(page.records, page.bookmark, pageNo);
  }
  const budget = await parts.writePage(page, pageNo);
  const checkpoint = page.bookmark === undefined ? undefined : { bookmark: page.bookmark, partition };
  // I1/I4: rows durable, then dead letters durable, then (and only then) the bookmark. A budget
  // stops the run only after the page's checkpoint was stored.
  const stored = await parts.checkpointer.offer(checkpoint, budget !== undefined);
  if (budget) throw new DeferredFailure(budget);
  return stored;
}

async function readAndWrite(parts: RunParts, reader: PageReader): Promise<void> {
  const { run } = parts;
  let pageNo = 0;
  for (;;) {
    const page = await reader.next();
    if (!page) break;
    pageNo++;
    if (page.records.length > 0 || page.bookmark !== undefined || (page.rejected?.length ?? 0) > 0) {
      const stored = await processPage(parts, page, pageNo);
      run.progress(stored ? 'checkpoint' : 'page');
    }
    if (run.cancelled()) throw new CancelledError();
  }
  await keepWhatWasWritten(parts, true);
}

/** Failures of the durable path itself: after them nothing more is stored, only flushed best-effort. */
const DURABILITY_FAILURES = new Set<string>([
  ErrorCodes.STATE_FAILED,
  ErrorCodes.STATE_LOCKED,
  ErrorCodes.SINK_FLUSH_FAILED,
  ErrorCodes.DLQ_WRITE_FAILED,
]);

/**
 * How a run that threw ends. Cancellation: the current page was finished; make what was written
 * durable and store its checkpoint. Failure elsewhere (the source, a later page's write, a budget):
 * flush, and when both flushes succeed store the checkpoints of pages written before the failure,
 * so a crash loop still moves forward. A failure of the durable path (flush, state put) stores
 * nothing more. Either way the ORIGINAL error is what the caller sees.
 */
async function settle(
  parts: RunParts,
  caught: unknown,
): Promise<{ status: RunStatus; failure?: FaucetError }> {
  const { run } = parts;
  let error = caught instanceof DeferredFailure ? caught.error : caught;
  if (error instanceof CancelledError) {
    try {
      await keepWhatWasWritten(parts, true);
      return { status: 'cancelled' };
    } catch (flushError) {
      error = flushError;
    }
  }
  const failure = run.redactor.redactError(wrapFailure('internal', error, run.names));
  try {
    await keepWhatWasWritten(parts, !DURABILITY_FAILURES.has(failure.code));
  } catch (keepError) {
    run.logger.debug('could not store the last checkpoint after the failure', {
      error: errorMessage(keepError),
    });
  }
  // Debug: the caller gets the error in the result and shows it (the CLI once, in its summary).
  run.logger.debug('run failed', { code: failure.code, error: failure.message });
  return { status: 'failed', failure };
}

/** Dead letters first, then the sink (ARCHITECTURE §3.4); then, when asked, the waiting checkpoints. */
async function keepWhatWasWritten(parts: RunParts, storeCheckpoints: boolean): Promise<void> {
  await parts.dlqWriter.flush();
  await parts.checkpointer.flushSink();
  if (storeCheckpoints) await parts.checkpointer.storeWaiting();
}

function result(run: RunContext, status: RunStatus, failure: FaucetError | undefined): PipelineResult {
  const durationMs = performance.now() - run.t0;
  run.telemetry.finish(status, durationMs, failure);
  run.progress('end', status);
  const out: PipelineResult = {
    status,
    runId: run.runId,
    pipeline: run.pipeline,
    row: run.row,
    stateKey: run.stateKey,
    ...run.stats,
    lastBookmark: run.lastBookmark,
    startedAt: run.startedAt.toISOString(),
    durationMs,
  };
  if (failure) out.error = failure;
  return out;
}

/** Run one pipeline invocation. Resolves with a result (status ok | cancelled | failed); rejects only for invalid options. */
export async function runPipeline(options: RunPipelineOptions): Promise<PipelineResult> {
  const issues = validateOptions(options);
  if (issues.length > 0) throw new ConfigError(issues, { context: 'invalid pipeline options' });
  const parts = assemble(options);
  const { run } = parts;
  let release: ReleaseLock | undefined;
  let reader: PageReader | undefined;
  let outcome: { status: RunStatus; failure?: FaucetError } = { status: 'ok' };
  try {
    release = await takeLock(parts);
    const bookmark = await startingBookmark(parts);
    run.progress('start');
    if (run.cancelled()) throw new CancelledError();
    reader = openPageReader(run, options.source, sourceContext(parts, bookmark), options.readAhead !== false);
    await readAndWrite(parts, reader);
  } catch (caught) {
    outcome = await settle(parts, caught);
  } finally {
    await reader?.stop(options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
    run.teardown.abort();
    if (release) {
      try {
        await release();
      } catch (error) {
        run.logger.warn('failed to release the state lock', {
          key: run.stateKey,
          error: errorMessage(error),
        });
      }
    }
  }
  return result(run, outcome.status, outcome.failure);
}

/** Throw a failed run's error; return the result otherwise. */
export function assertRunOk(result: PipelineResult): PipelineResult {
  if (result.status === 'failed' && result.error) throw result.error;
  return result;
}
