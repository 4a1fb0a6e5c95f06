/**
 * The page loop of one read: take what the reader has fetched, decode it, yield pages (each a
 * checkpoint), and stop on `idle_timeout` (only once caught up), `max_messages` or cancellation.
 * Also: waiting, at the end of a read, for the engine to have stored the last bookmark.
 */
import type { FaucetError, Page, SourceContext } from '@faucet/core';
import { buildBookmark } from './bookmark.js';
import type { KafkaSourceConfig } from './config.js';
import { decodePage } from './pages.js';
import type { KafkaReader } from './reader.js';

export interface PageLoopOptions {
  cluster: string | null;
  pageSize: number;
  idleMs: number;
  maxMessages: number | undefined;
  formats: Pick<KafkaSourceConfig, 'key_format' | 'value_format'>;
  /** `kafka source (h:9092)`, for messages. */
  where: string;
  /** What is read, for messages: `"orders"`. */
  what: string;
  wrap: (error: unknown, action: string) => FaucetError;
}

/** Yield pages until a stop condition; returns the JSON of the last bookmark yielded. */
export async function* readPages(
  reader: KafkaReader,
  ctx: SourceContext,
  options: PageLoopOptions,
): AsyncGenerator<Page, string | undefined> {
  const { cluster, pageSize, idleMs, maxMessages } = options;
  let delivered = 0;
  let lastJson: string | undefined;
  let reason = 'cancelled';
  for (;;) {
    const room = maxMessages === undefined ? pageSize : Math.min(pageSize, maxMessages - delivered);
    let wait: number | undefined;
    if (idleMs > 0) {
      const quiet = performance.now() - reader.lastArrivalAt;
      wait = quiet >= idleMs ? 250 : idleMs - quiet;
    }
    let taken: Awaited<ReturnType<KafkaReader['take']>>;
    try {
      taken = await reader.take(room, wait, ctx.signal);
    } catch (error) {
      throw options.wrap(error, `reading ${options.what}`);
    }
    if (taken === 'aborted') return lastJson;
    if (taken === 'timeout') {
      const quiet = performance.now() - reader.lastArrivalAt;
      if (quiet >= idleMs && reader.caughtUpAt > reader.lastArrivalAt) {
        reason = `idle for ${idleMs} ms`;
        break;
      }
      continue;
    }
    if (taken.messages.length === 0 && !taken.moved) continue;
    const policy = ctx.onRecordError ?? 'fail';
    const decoded = decodePage(taken.messages, reader.positions(), options.formats, policy, options.where);
    for (const [i, page] of decoded.pages.entries()) {
      const bookmark = buildBookmark(cluster, page.positions);
      const json = JSON.stringify(bookmark);
      // Rejected messages ride with the first page: their bookmark is stored only after them.
      const rejected = i === 0 && decoded.rejected.length > 0 ? decoded.rejected : undefined;
      if (page.records.length === 0 && !rejected && json === lastJson) continue;
      lastJson = json;
      yield rejected ? { records: page.records, bookmark, rejected } : { records: page.records, bookmark };
    }
    if (decoded.failure) throw decoded.failure;
    delivered += taken.messages.length;
    if (ctx.signal.aborted) return lastJson;
    if (maxMessages !== undefined && delivered >= maxMessages) {
      reason = `max_messages (${maxMessages}) reached`;
      break;
    }
  }
  // Positions that moved past the last page (control records, starts without a bookmark) are stored too.
  const bookmark = buildBookmark(cluster, reader.positions());
  const json = JSON.stringify(bookmark);
  if (json !== lastJson && reader.positions().length > 0) {
    lastJson = json;
    yield { records: [], bookmark };
  }
  ctx.logger.info('kafka: stopping', { reason, messages: delivered, partitions: reader.owned().length });
  return lastJson;
}

/** The newest bookmark the engine stored (as JSON), and who waits for one. */
export class StoredBookmarks {
  private last: string | undefined;
  private readonly waiters = new Set<() => void>();

  stored(json: string): void {
    this.last = json;
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves once `json` is stored, after `timeoutMs`, or when `signal` aborts. */
  waitFor(json: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.last === json) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const check = () => {
        if (this.last === json) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(check);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
