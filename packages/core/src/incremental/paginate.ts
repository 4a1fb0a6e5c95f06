/**
 * Turning a stream of records into pages, with checkpoints: an ordered source (rows come in cursor
 * order) checkpoints at page boundaries every `every` records; an unordered one saves its bookmark
 * (the running max) on the last page only, because before the end a smaller value may still come.
 */
import { ConfigError } from '../errors.js';
import type { FaucetRecord, JsonValue, Page } from '../types.js';

export interface PaginateCheckpoint {
  /**
   * Records between checkpoints (`checkpoint_interval`); a checkpoint is taken at the first page
   * boundary after that many records. Default 1: every page.
   */
  every?: number;
  /**
   * The bookmark for a page ending with `lastRecord`, `count` records into the stream. Undefined
   * skips this checkpoint (the next page boundary tries again).
   */
  bookmark: (lastRecord: FaucetRecord, count: number) => JsonValue | undefined;
}

export interface PaginateOptions {
  /** Records per page, at most. */
  batchSize: number;
  /** For ordered sources. */
  checkpoint?: PaginateCheckpoint;
  /**
   * For unordered sources: the bookmark of the last page, read once the input is exhausted (e.g. the
   * running max). With no records it still yields one empty page carrying it.
   */
  finalBookmark?: () => JsonValue | undefined;
}

function assertCount(value: unknown, path: string): void {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new ConfigError([{ path, message: `expected a whole number of at least 1, got ${String(value)}` }]);
  }
}

function page(records: FaucetRecord[], bookmark: JsonValue | undefined): Page {
  return bookmark === undefined ? { records } : { records, bookmark };
}

function iteratorOf<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in source
    ? (source as AsyncIterable<T>)[Symbol.asyncIterator]()
    : (source as Iterable<T>)[Symbol.iterator]();
}

/**
 * Pages of at most `batchSize` records, pulled from `records` as they are needed: memory stays at
 * one page (plus one record read ahead when the next record decides whether a page is the last).
 * Ending the iteration early closes `records`. Zero records yield no page, unless `finalBookmark`
 * returns a bookmark: then one empty page carries it.
 */
export function paginateRecords(
  records: AsyncIterable<FaucetRecord> | Iterable<FaucetRecord>,
  options: PaginateOptions,
): AsyncGenerator<Page, void, undefined> {
  assertCount(options.batchSize, 'batch_size');
  if (options.checkpoint?.every !== undefined) assertCount(options.checkpoint.every, 'checkpoint_interval');
  return pages(iteratorOf(records), options);
}

async function* pages(
  input: AsyncIterator<FaucetRecord> | Iterator<FaucetRecord>,
  options: PaginateOptions,
): AsyncGenerator<Page, void, undefined> {
  const { batchSize, checkpoint, finalBookmark } = options;
  const every = checkpoint?.every ?? 1;
  let exhausted = false;
  let buffer: FaucetRecord[] = [];
  let count = 0;
  let sinceCheckpoint = 0;
  let ahead: IteratorResult<FaucetRecord> | undefined;
  try {
    for (;;) {
      const next = ahead ?? (await input.next());
      ahead = undefined;
      if (next.done) {
        exhausted = true;
        break;
      }
      buffer.push(next.value);
      count += 1;
      sinceCheckpoint += 1;
      if (buffer.length < batchSize) continue;
      const due = checkpoint !== undefined && sinceCheckpoint >= every;
      // Only the last page may get a bookmark an inner page would not; only then read one record
      // ahead to learn whether this page is the last.
      if (finalBookmark !== undefined || (checkpoint !== undefined && !due)) {
        ahead = await input.next();
        if (ahead.done) {
          exhausted = true;
          break;
        }
      }
      const full = buffer;
      buffer = [];
      const bookmark = due ? checkpoint.bookmark(full[full.length - 1]!, count) : undefined;
      if (bookmark !== undefined) sinceCheckpoint = 0;
      yield page(full, bookmark);
    }
    const last = buffer[buffer.length - 1];
    let bookmark = finalBookmark?.();
    if (bookmark === undefined && checkpoint !== undefined && last !== undefined && sinceCheckpoint > 0) {
      bookmark = checkpoint.bookmark(last, count);
    }
    if (buffer.length > 0 || bookmark !== undefined) yield page(buffer, bookmark);
  } finally {
    if (!exhausted) await input.return?.();
  }
}
