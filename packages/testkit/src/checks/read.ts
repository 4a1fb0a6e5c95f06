/** Driving a source by hand: read pages with a bookmark, a batch size and a time limit per page. */
import type { JsonValue, Page, Source } from '@faucet/core';
import { silentLogger } from '@faucet/core';
import { describeError, type Violation } from '../conformance-error.js';
import { within } from '../env.js';

export type SourceFactory = () => Source | Promise<Source>;

export interface ReadOptions {
  batchSize: number;
  bookmark?: JsonValue | undefined;
  signal?: AbortSignal;
  /** Fail when the source yields more records than this (it would never stop). */
  maxRecords: number;
  /** Time limit for each page. */
  pageTimeoutMs: number;
  /** What this read is, for failure messages (`the first read`). */
  what: string;
}

export async function openSource(create: SourceFactory, fail: Violation): Promise<Source> {
  try {
    return await create();
  } catch (error) {
    return fail(`create() failed: ${describeError(error)}`, error);
  }
}

export async function closeQuietly(target: { close?(): Promise<void> } | undefined): Promise<void> {
  try {
    await target?.close?.();
  } catch {
    // closing is best effort here; the checks judge reads and writes
  }
}

/** Read every page; any error, malformed page, runaway read or stall fails the check. */
export async function readPages(source: Source, options: ReadOptions, fail: Violation): Promise<Page[]> {
  const pages: Page[] = [];
  let records = 0;
  let iterator: AsyncIterator<Page>;
  try {
    iterator = source
      .read({
        bookmark: options.bookmark,
        batchSize: options.batchSize,
        signal: options.signal ?? new AbortController().signal,
        logger: silentLogger,
      })
      [Symbol.asyncIterator]();
  } catch (error) {
    return fail(`${options.what}: read() threw ${describeError(error)}`, error);
  }
  try {
    for (;;) {
      let step: IteratorResult<Page>;
      try {
        step = await within(iterator.next(), options.pageTimeoutMs, `page ${pages.length + 1}`);
      } catch (error) {
        return fail(`${options.what} failed at page ${pages.length + 1}: ${describeError(error)}`, error);
      }
      if (step.done) break;
      const page = step.value;
      if (typeof page !== 'object' || page === null || !Array.isArray(page.records)) {
        return fail(`${options.what}: page ${pages.length + 1} has no records array`);
      }
      pages.push(page);
      records += page.records.length;
      if (records > options.maxRecords) {
        return fail(
          `${options.what} yielded more than ${options.maxRecords} records from a dataset of fewer; it ` +
            're-reads or never ends',
        );
      }
    }
  } finally {
    void Promise.resolve(iterator.return?.()).catch(() => {});
  }
  return pages;
}

/** A bookmark as it comes back from a state store: through JSON. */
export function throughJson(value: JsonValue): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
