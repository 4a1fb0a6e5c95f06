/**
 * A bounded hand-over between the replication stream (producer) and the run (consumer). The
 * producer awaits `push` while more than `capacity` records wait, which pauses the stream (the
 * replication library stops reading the socket until our handler returns): memory stays bounded
 * however far the database runs ahead of the sink.
 *
 * Whole transactions waiting back to back are joined into one page (up to the page size), its
 * bookmark the last one's commit: a checkpoint still falls only at a commit, and a burst of small
 * transactions costs one state write per page instead of one per transaction.
 */
import type { Page } from '@faucet/core';

export type Taken = Page | 'timeout' | 'aborted';

export class PageChannel {
  private readonly pages: Page[] = [];
  private staged = 0;
  private failure: unknown;
  private failed = false;
  private closed = false;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  /**
   * @param capacity most records staged before `push` waits
   * @param mergeUpTo a page that ends a transaction joins the waiting page before it when that one
   *   ends a transaction too and both fit in this many records (0: never)
   */
  constructor(
    private readonly capacity: number,
    private readonly mergeUpTo = 0,
  ) {}

  /** Records waiting to be taken. */
  get size(): number {
    return this.staged;
  }

  async push(page: Page): Promise<void> {
    while (this.staged >= this.capacity && !this.closed && !this.failed) {
      await new Promise<void>((resolve) => {
        this.wakeProducer = resolve;
      });
    }
    if (this.closed || this.failed) return;
    const tail = this.pages[this.pages.length - 1];
    if (
      this.mergeUpTo > 0 &&
      tail &&
      tail.bookmark !== undefined &&
      page.bookmark !== undefined &&
      tail.records.length + page.records.length <= this.mergeUpTo
    ) {
      // Both pages end at a commit: one page (and one checkpoint) for both transactions.
      for (const record of page.records) tail.records.push(record);
      tail.bookmark = page.bookmark;
      this.staged += page.records.length;
      this.wake('consumer');
      return;
    }
    this.pages.push(page);
    this.staged += page.records.length;
    this.wake('consumer');
  }

  /** The stream failed: the consumer gets this error once the pages before it are taken. */
  fail(error: unknown): void {
    if (this.failed || this.closed) return;
    this.failed = true;
    this.failure = error;
    this.wake('consumer');
    this.wake('producer');
  }

  /** The consumer is gone: release a waiting producer and drop what is staged. */
  close(): void {
    this.closed = true;
    this.pages.length = 0;
    this.staged = 0;
    this.wake('producer');
    this.wake('consumer');
  }

  /** The next page; 'timeout' after `timeoutMs` (undefined: wait without limit); 'aborted' on the signal. */
  async take(timeoutMs: number | undefined, signal: AbortSignal): Promise<Taken> {
    for (;;) {
      const page = this.pages.shift();
      if (page) {
        this.staged -= page.records.length;
        this.wake('producer');
        return page;
      }
      if (this.failed) throw this.failure;
      if (this.closed || signal.aborted) return 'aborted';
      const woke = await new Promise<'woken' | 'timeout' | 'aborted'>((resolve) => {
        const timer = timeoutMs === undefined ? undefined : setTimeout(() => done('timeout'), timeoutMs);
        const onAbort = () => done('aborted');
        const done = (why: 'woken' | 'timeout' | 'aborted') => {
          if (timer) clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          this.wakeConsumer = undefined;
          resolve(why);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        this.wakeConsumer = () => done('woken');
      });
      if (woke === 'timeout') return 'timeout';
      if (woke === 'aborted') return 'aborted';
    }
  }

  private wake(who: 'consumer' | 'producer'): void {
    const fn = who === 'consumer' ? this.wakeConsumer : this.wakeProducer;
    if (who === 'consumer') this.wakeConsumer = undefined;
    else this.wakeProducer = undefined;
    fn?.();
  }
}
