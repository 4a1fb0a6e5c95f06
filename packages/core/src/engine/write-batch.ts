/** One sink write: retried only where that cannot duplicate rows (I6), failures checked and counted. */
import { ErrorCodes, errorMessage, SinkError } from '../errors.js';
import { SpanNames } from '../observability.js';
import type { FaucetRecord, RowFailure, Sink, WriteResult } from '../types.js';
import { type CommitPosition, encodeCommitToken } from './commit-token.js';
import type { DlqReason } from './dlq.js';
import { wrapFailure } from './failures.js';
import type { DlqOptions } from './options.js';
import type { RunContext } from './run-context.js';

export interface BatchOutcome {
  /** Rows the sink did not write, sorted by index (after the on_batch_error policy). */
  failures: RowFailure[];
  reason: DlqReason;
}

export type WriteBatch = (batch: FaucetRecord[], commit: CommitPosition | undefined) => Promise<BatchOutcome>;

/** The per-row failures of a write result, checked: distinct indexes inside the batch. */
export function normaliseFailures(
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

export function createBatchWriter(run: RunContext, sink: Sink, dlq: DlqOptions | undefined): WriteBatch {
  const { names, telemetry } = run;
  const send = (batch: FaucetRecord[], commit: CommitPosition | undefined) => {
    const ctx = { signal: run.teardown.signal, logger: run.logger };
    if (commit) {
      const token = encodeCommitToken(commit);
      const writeIdempotent = sink.writeIdempotent as NonNullable<Sink['writeIdempotent']>;
      return run.withRetry('sink commit', async () =>
        writeIdempotent.call(sink, batch, { scope: run.stateKey, token }, ctx),
      );
    }
    // I6: only a sink that declares idempotent writes is retried; others would duplicate rows.
    return sink.idempotentWrites
      ? run.withRetry('sink write', () => sink.write(batch, ctx))
      : sink.write(batch, ctx);
  };

  return async (batch, commit) => {
    const t = performance.now();
    let result: WriteResult | undefined | void;
    try {
      result = await telemetry.span(
        SpanNames.sinkWrite,
        { connector: names.sink, records: batch.length },
        () => send(batch, commit),
      );
    } catch (error) {
      telemetry.sinkError();
      if (dlq && dlq.onBatchError === 'dlq_all') {
        run.logger.warn('sink batch failed; dead-lettering every row of it (on_batch_error: dlq_all)', {
          rows: batch.length,
          error: errorMessage(error),
        });
        return { failures: batch.map((_, index) => ({ index, error: error as Error })), reason: 'dlq_all' };
      }
      throw wrapFailure('sinkWrite', error, names, { rows: batch.length });
    }
    const failures = normaliseFailures(result, batch.length, names.sink);
    telemetry.sinkWrite(batch.length - failures.length, performance.now() - t);
    return { failures, reason: 'partial' };
  };
}
