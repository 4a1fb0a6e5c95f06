import type { FaucetRecord, JsonValue, Page, Source, SourceContext } from '@faucet/core';
import { defaultRecord } from '../dataset.js';

export type BookmarkMode = 'every-page' | 'final-page' | false;

export interface MemorySourceOptions {
  /** The records to serve, in order. When absent, `count` records are built lazily by `record`. */
  records?: readonly FaucetRecord[];
  /** How many records to build lazily (default 100). Ignored when `records` is given. */
  count?: number;
  /** Builds record `index` on demand (default: the testkit's default record). */
  record?: (index: number) => FaucetRecord;
  /** Bookmark `{offset}` on every page (default), on the final page only, or never. */
  bookmarks?: BookmarkMode;
  /** Records per page (default: `ctx.batchSize`). */
  pageSize?: number;
  /** Wait this long before each page after the first, like a source polling an API; honours `ctx.signal`. */
  delayMs?: number;
}

export interface MemorySource extends Source {
  /** Records handed out so far, over every read (the streaming probe). */
  readonly served: number;
  /** How many times `read` was called. */
  readonly reads: number;
}

/**
 * A lazy source of records: it builds each page only when asked for it, so memory stays bounded and
 * `served` tells how far it has read. The bookmark is `{offset: <index of the next record>}`; resuming
 * from it yields exactly the records after it. Deterministic: the same bookmark gives the same pages.
 */
export function memorySource(options: MemorySourceOptions = {}): MemorySource {
  const total = options.records ? options.records.length : (options.count ?? 100);
  const build = (index: number): FaucetRecord =>
    options.records
      ? structuredClone(options.records[index] as FaucetRecord)
      : (options.record ?? defaultRecord)(index);
  const mode = options.bookmarks ?? 'every-page';
  let served = 0;
  let reads = 0;

  return {
    deterministic: true,
    get served() {
      return served;
    },
    get reads() {
      return reads;
    },
    async *read(ctx: SourceContext): AsyncIterable<Page> {
      reads++;
      const pageSize = options.pageSize ?? ctx.batchSize;
      const from = offsetOf(ctx.bookmark);
      for (let offset = from; offset < total; offset += pageSize) {
        if (offset > from && options.delayMs) {
          const stopped = await sleep(options.delayMs, ctx.signal);
          if (stopped) return;
        }
        const end = Math.min(offset + pageSize, total);
        const records: FaucetRecord[] = [];
        for (let i = offset; i < end; i++) records.push(build(i));
        served += records.length;
        const last = end >= total;
        if (mode === 'every-page' || (mode === 'final-page' && last))
          yield { records, bookmark: { offset: end } };
        else yield { records };
      }
    },
  };
}

function offsetOf(bookmark: JsonValue | undefined): number {
  if (typeof bookmark === 'object' && bookmark !== null && !Array.isArray(bookmark)) {
    const offset = bookmark.offset;
    if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return offset;
  }
  return 0;
}

/** Sleep, or stop early when the signal aborts; resolves true when it was aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve(true);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
