/**
 * Effectively-once delivery: every page is one atomic commit of rows and a commit token (the page's
 * position) in the sink. On start the sink's own watermark is read back; when the sink is ahead of
 * the state store (a crash between commit and state put), the run resumes from the sink's watermark
 * and skips the pages it already holds.
 */
import { ErrorCodes, errorMessage, FaucetError } from '../errors.js';
import type { FaucetRecord, JsonValue, Sink, Source } from '../types.js';
import type { Checkpointer } from './checkpoints.js';
import { type CommitPosition, comparePositions, decodeCommitToken } from './commit-token.js';
import { failingAs } from './failures.js';
import type { RunContext } from './run-context.js';
import { type ApplyTransforms, transformPage } from './transform-page.js';
import type { WriteBatch } from './write-batch.js';

export interface EffectivelyOnceWriter {
  /** Where reading starts: the stored bookmark, or the sink's watermark when that is ahead. */
  resume(stored: { bookmark: JsonValue | undefined; seq: number }): Promise<JsonValue | undefined>;
  /** Write (or skip, when already committed) one page; true when its checkpoint was stored. */
  writePage(records: FaucetRecord[], bookmark: JsonValue | undefined, pageNo: number): Promise<boolean>;
}

export interface EffectivelyOnceParts {
  source: Source;
  sink: Sink;
  writeBatch: WriteBatch;
  checkpointer: Checkpointer;
  transforms: ApplyTransforms | undefined;
}

export function createEffectivelyOnceWriter(
  run: RunContext,
  parts: EffectivelyOnceParts,
): EffectivelyOnceWriter {
  const { names } = run;
  let committed: CommitPosition | undefined;
  let position: CommitPosition = { seq: 0, sub: 0, bookmark: undefined };

  const readSinkPosition = async (): Promise<CommitPosition | undefined> => {
    const lastCommittedToken = parts.sink.lastCommittedToken as NonNullable<Sink['lastCommittedToken']>;
    const token = await failingAs('sinkToken', names, {}, () =>
      run.withRetry('sink lastCommittedToken', async () => lastCommittedToken.call(parts.sink, run.stateKey)),
    );
    const decoded = decodeCommitToken(token);
    if (token !== undefined && token !== null && !decoded) {
      run.logger.warn(
        'the sink holds a commit token this version cannot read; resuming from the stored state',
        {},
      );
    }
    return decoded;
  };

  const resume: EffectivelyOnceWriter['resume'] = async (stored) => {
    position = { seq: stored.seq, sub: 0, bookmark: stored.bookmark };
    const sinkPosition = await readSinkPosition();
    if (!sinkPosition || comparePositions(sinkPosition, position) <= 0) return stored.bookmark;
    // The sink is ahead of the state store: resume from its watermark instead of re-sending pages it holds.
    committed = sinkPosition;
    position = { seq: sinkPosition.seq, sub: 0, bookmark: sinkPosition.bookmark };
    if (sinkPosition.sub > 0 && !parts.source.deterministic) {
      run.logger.warn(
        'the sink committed pages past the last checkpoint, but this source does not promise the same pages ' +
          'on a re-read; those pages may be written again',
        { committed_pages: sinkPosition.sub },
      );
      committed = undefined;
    }
    run.logger.info('resuming from the sink commit watermark (effectively-once)', {
      seq: sinkPosition.seq,
      pages_after_checkpoint: sinkPosition.sub,
    });
    if (sinkPosition.sub === 0 && sinkPosition.bookmark !== undefined) {
      // The sink durably holds this checkpoint: bring the store up to it now, so the state is right
      // even when no further page comes.
      await parts.checkpointer.put(sinkPosition.bookmark, { seq: sinkPosition.seq });
      run.lastBookmark = sinkPosition.bookmark;
    }
    return sinkPosition.bookmark;
  };

  const writePage: EffectivelyOnceWriter['writePage'] = async (sourceRecords, bookmark, pageNo) => {
    const { records } = transformPage(sourceRecords, parts.transforms, pageNo, 'fail');
    if (parts.transforms) run.telemetry.transformed(records.length);
    const hasBookmark = bookmark !== undefined;
    // Each page is one atomic commit; a checkpoint page moves the resume bookmark forward.
    position = hasBookmark
      ? { seq: position.seq + 1, sub: 0, bookmark }
      : { seq: position.seq, sub: position.sub + 1, bookmark: position.bookmark };
    if (committed && comparePositions(position, committed) <= 0) {
      run.stats.pagesSkipped++;
      run.telemetry.pagesSkipped(1);
    } else if (records.length > 0 || hasBookmark) {
      const { failures } = await parts.writeBatch(records, position);
      if (failures.length > 0) {
        throw new FaucetError(
          `sink "${names.sink}" rejected ${failures.length} rows of page ${pageNo} in effectively_once mode, ` +
            `where rows cannot be dead-lettered (first: row ${failures[0]?.index}: ${errorMessage(failures[0]?.error)})`,
          { code: ErrorCodes.ROWS_FAILED_WITHOUT_DLQ, connector: names.sink },
        );
      }
      run.stats.recordsWritten += records.length;
    }
    if (!hasBookmark) return false;
    await parts.checkpointer.commitPage(bookmark, position.seq);
    return true;
  };

  return { resume, writePage };
}
