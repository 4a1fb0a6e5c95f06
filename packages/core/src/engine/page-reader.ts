/**
 * Reading pages from the source: at most one page read ahead while the current one is written (I3),
 * never reordered, and a wait for a slow source that ends at once when the run is cancelled.
 */
import { CancelledError, ConfigError, SourceError } from '../errors.js';
import { stateKeyProblem } from '../state/keys.js';
import type { Page, Source, SourceContext } from '../types.js';
import { wrapFailure } from './failures.js';
import type { RunContext } from './run-context.js';
import { stopSource } from './stop-source.js';

export interface PageReader {
  /** The next page, or undefined at the end. Throws CancelledError when the run is cancelled. */
  next(): Promise<Page | undefined>;
  /** Ask the source to stop, waiting at most `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

export function openPageReader(
  run: RunContext,
  source: Source,
  context: SourceContext,
  readAhead: boolean,
): PageReader {
  let iterator: AsyncIterator<Page>;
  try {
    iterator = source.read(context)[Symbol.asyncIterator]();
  } catch (error) {
    throw wrapFailure('sourceStart', error, run.names);
  }
  const signal = run.cancelSignal;
  let pending: Promise<IteratorResult<Page>> | undefined;
  let pageNo = 0;

  const pull = (): Promise<IteratorResult<Page>> => {
    const p = iterator.next();
    // The read-ahead may reject while the previous page is still being written; it is awaited later.
    p.catch(() => {});
    return p;
  };

  // Wait for the next page, or for cancellation while the source is slow to produce one. The abort
  // listener is per wait and removed as soon as the page arrives: racing every page against one
  // long-lived promise would pile up reactions on it and keep every page's records reachable.
  const nextOrAbort = (page: Promise<IteratorResult<Page>>): Promise<IteratorResult<Page> | 'aborted'> => {
    if (!signal) return page;
    if (signal.aborted) return Promise.resolve('aborted');
    return new Promise((resolve, reject) => {
      const onAbort = () => resolve('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
      page.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  };

  return {
    async next() {
      pending ??= pull();
      const waitStart = performance.now();
      let step: IteratorResult<Page> | 'aborted';
      try {
        step = await nextOrAbort(pending);
      } catch (error) {
        run.telemetry.sourceError();
        if (run.cancelled()) throw new CancelledError();
        throw wrapFailure('sourceRead', error, run.names, { pages: pageNo });
      }
      if (step === 'aborted') throw new CancelledError();
      pending = undefined;
      if (step.done) return undefined;
      const page = step.value;
      if (!page || !Array.isArray(page.records)) {
        throw new SourceError(
          `source "${run.names.source}" yielded a page without a records array (page ${pageNo + 1})`,
          { connector: run.names.source },
        );
      }
      run.telemetry.sourcePage(page.records.length, performance.now() - waitStart);
      pageNo++;
      // I3: at most one page is read ahead, and only once the current page is in hand.
      if (readAhead && !run.cancelled()) pending = pull();
      return page;
    },
    stop: (graceMs) => stopSource(iterator, pending, graceMs, run.logger),
  };
}

/** The partition a page's bookmark belongs to, checked: a usable key, and not under effectively-once. */
export function pagePartition(
  run: RunContext,
  page: Page,
  pageNo: number,
  effectivelyOnce: boolean,
): string | undefined {
  const { partition } = page;
  if (partition === undefined) return undefined;
  const problem = typeof partition === 'string' ? stateKeyProblem(run.keyOf(partition)) : 'not a string';
  if (problem) {
    throw new SourceError(
      `source "${run.names.source}" yielded page ${pageNo} with an unusable partition id ${JSON.stringify(partition)}: ${problem}`,
      { connector: run.names.source },
    );
  }
  if (effectivelyOnce) {
    throw new ConfigError(
      `source "${run.names.source}" checkpoints partitions separately, which effectively_once delivery does not support; use at_least_once`,
      { context: 'delivery' },
    );
  }
  return partition;
}
