/**
 * Writing one at-least-once page: transforms, sink batches, per-row failures to the DLQ (or a failed
 * run when there is none), records the source or a transform rejected, and the DLQ budgets. The page
 * is always finished before a budget stops the run, so its checkpoint can still be stored.
 */
import { ErrorCodes, errorMessage, FaucetError, SinkError, SourceError } from '../errors.js';
import type { FaucetRecord, Page, RecordErrorPolicy, RowFailure } from '../types.js';
import { buildEnvelope, type DlqEnvelope, type DlqReason } from './dlq.js';
import type { DlqWriter } from './dlq-writer.js';
import type { DlqOptions } from './options.js';
import type { RunContext } from './run-context.js';
import { type ApplyTransforms, transformPage } from './transform-page.js';
import type { WriteBatch } from './write-batch.js';

export interface PageWriterParts {
  writeBatch: WriteBatch;
  dlq: DlqOptions | undefined;
  dlqWriter: DlqWriter;
  transforms: ApplyTransforms | undefined;
  /** Rows per sink write (default: the whole page). */
  sinkBatch: number;
  onRecordError: RecordErrorPolicy;
}

/** Writes a page; resolves with the budget error that must stop the run after its checkpoint, if any. */
export type WritePage = (page: Page, pageNo: number) => Promise<FaucetError | undefined>;

export function createPageWriter(run: RunContext, parts: PageWriterParts): WritePage {
  const { names } = run;
  let totalFailures = 0;

  const envelope = (
    fields: Pick<
      Parameters<typeof buildEnvelope>[0],
      'error' | 'payload' | 'recordIndex' | 'raw' | 'position'
    >,
    reason: DlqReason,
  ): DlqEnvelope =>
    buildEnvelope({
      ...fields,
      reason,
      sink: names.sink,
      pipeline: run.pipeline,
      row: run.row,
      redactor: run.redactor,
    });

  /** Dead letters for what the source and the transforms rejected. */
  const rejectedEnvelopes = (page: Page, pageNo: number, transformed: ReturnType<typeof transformPage>) => {
    const rejected = page.rejected ?? [];
    if (rejected.length > 0 && (parts.onRecordError !== 'dlq' || !parts.dlq)) {
      const first = rejected[0];
      throw new SourceError(
        `source "${names.source}" could not decode ${rejected.length} records in page ${pageNo} ` +
          `(first: ${errorMessage(first?.error)})`,
        { connector: names.source, code: ErrorCodes.RECORD_INVALID },
      );
    }
    const out: DlqEnvelope[] = [];
    for (const reject of rejected) {
      out.push(
        envelope(
          {
            error: reject.error,
            payload: null,
            recordIndex: page.records.length,
            ...(reject.raw === undefined ? {} : { raw: reject.raw }),
            ...(reject.position === undefined ? {} : { position: reject.position }),
          },
          'source',
        ),
      );
    }
    for (const reject of transformed.rejects) {
      out.push(
        envelope(
          {
            error: reject.error,
            payload: reject.record,
            recordIndex: reject.index,
            position: { page: pageNo },
          },
          'transform',
        ),
      );
    }
    return out;
  };

  /** Write the records in sink batches; dead letters for rows the sink rejected. */
  const writeRecords = async (records: FaucetRecord[], envelopes: DlqEnvelope[]) => {
    let failed = 0;
    let first: { index: number; error: RowFailure['error'] } | undefined;
    const size = Math.min(parts.sinkBatch, records.length);
    for (let offset = 0; offset < records.length; offset += size) {
      const batch = offset === 0 && size === records.length ? records : records.slice(offset, offset + size);
      const { failures, reason } = await parts.writeBatch(batch, undefined);
      run.stats.recordsWritten += batch.length - failures.length;
      for (const failure of failures) {
        failed++;
        first ??= { index: offset + failure.index, error: failure.error };
        if (parts.dlq) {
          const payload = batch[failure.index] as FaucetRecord;
          envelopes.push(
            envelope({ error: failure.error, payload, recordIndex: offset + failure.index }, reason),
          );
        }
      }
    }
    return { failed, first };
  };

  const budgetError = (pageNo: number, pageFailures: number): FaucetError | undefined => {
    const { dlq } = parts;
    const tail = 'the page was finished and checkpointed, then the run stopped';
    if (dlq?.maxFailuresPerPage !== undefined && pageFailures > dlq.maxFailuresPerPage) {
      return new FaucetError(
        `page ${pageNo} had ${pageFailures} failed rows, over max_failures_per_page (${dlq.maxFailuresPerPage}); ${tail}`,
        { code: ErrorCodes.DLQ_BUDGET_EXCEEDED },
      );
    }
    if (dlq?.maxFailuresTotal !== undefined && totalFailures > dlq.maxFailuresTotal) {
      return new FaucetError(
        `the run had ${totalFailures} failed rows, over max_failures_total (${dlq.maxFailuresTotal}); ${tail}`,
        { code: ErrorCodes.DLQ_BUDGET_EXCEEDED },
      );
    }
    return undefined;
  };

  return async (page, pageNo) => {
    const transformed = transformPage(page.records, parts.transforms, pageNo, parts.onRecordError);
    if (parts.transforms) run.telemetry.transformed(transformed.records.length);
    const envelopes = rejectedEnvelopes(page, pageNo, transformed);
    const rejectedCount = envelopes.length;
    const { failed, first } = await writeRecords(transformed.records, envelopes);
    if (failed > 0 && !parts.dlq) {
      throw new SinkError(
        `sink "${names.sink}" rejected ${failed} of ${transformed.records.length} rows in page ${pageNo} ` +
          `(first: row ${first?.index}: ${errorMessage(first?.error)}); ` +
          'configure a dlq to set failed rows aside and keep going',
        { code: ErrorCodes.ROWS_FAILED_WITHOUT_DLQ, connector: names.sink },
      );
    }
    await parts.dlqWriter.write(envelopes);
    const pageFailures = failed + rejectedCount;
    totalFailures += pageFailures;
    return budgetError(pageNo, pageFailures);
  };
}
