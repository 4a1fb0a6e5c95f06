/**
 * The source checks: bounded pages, streaming, bookmarks (declared and round-tripping), crash and
 * resume through the real engine, and cancellation. Each takes the seeded dataset and a factory that
 * builds a fresh source over it (a fresh instance is a process restart).
 */
import { isDeepStrictEqual } from 'node:util';
import {
  createMemoryStateStore,
  type FaucetRecord,
  type JsonValue,
  type Page,
  type PipelineResult,
  runPipeline,
  type Source,
  type StateStore,
  silentLogger,
  unwrapState,
} from '@faucet/core';
import { describeError, violation } from '../conformance-error.js';
import { compareKeys, type Dataset, keysOf, listKeys } from '../dataset.js';
import { failingSink } from '../doubles/failing-sink.js';
import { failingStateStore } from '../doubles/failing-state-store.js';
import { type MemorySinkStorage, memorySink, memorySinkStorage } from '../doubles/memory-sink.js';
import { closeQuietly, openSource, readPages, type SourceFactory, throughJson } from './read.js';

export type { SourceFactory } from './read.js';

export interface SourceCheck {
  /** The connector's name, used in every failure message. */
  name: string;
  /** A fresh source over the seeded dataset. Called once per read or run. */
  create: SourceFactory;
  /** What the source holds (seeded before the check). */
  dataset: Dataset;
  /** Page size asked for (default: about an eighth of the dataset, at most 25). */
  batchSize?: number;
  /** Time limit for one page (default 15 s). */
  pageTimeoutMs?: number;
}

export type DeclaredBookmarks = 'every-page' | 'final-page';

const PIPELINE = 'conformance';

/** A page size that gives the dataset at least four pages. */
export function checkBatchSize(check: { batchSize?: number; dataset: Dataset }): number {
  const count = check.dataset.records.length;
  const size = check.batchSize ?? Math.min(25, Math.floor(count / 8));
  if (!Number.isSafeInteger(size) || size < 1 || count < size * 4) {
    throw new TypeError(
      `the conformance checks need a dataset of at least 4 pages: ${count} records with batchSize ${size}; ` +
        'seed more records or pass a smaller batchSize',
    );
  }
  return size;
}

function readOptions(check: SourceCheck, what: string, bookmark?: JsonValue) {
  return {
    batchSize: checkBatchSize(check),
    bookmark,
    maxRecords: check.dataset.records.length * 3,
    pageTimeoutMs: check.pageTimeoutMs ?? 15_000,
    what,
  };
}

async function readOnce(
  check: SourceCheck,
  fail: ReturnType<typeof violation>,
  what: string,
  bookmark?: JsonValue,
) {
  const source = await openSource(check.create, fail);
  try {
    return await readPages(source, readOptions(check, what, bookmark), fail);
  } finally {
    await closeQuietly(source);
  }
}

const pageKeys = (pages: readonly Page[], key: string): string[] =>
  pages.flatMap((p) => keysOf(p.records, key));

function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Rules bounded-pages and records-json. */
export async function assertBoundedPages(check: SourceCheck): Promise<void> {
  const fail = violation('source', check.name, 'bounded-pages');
  const failJson = violation('source', check.name, 'records-json');
  const batchSize = checkBatchSize(check);
  const pages = await readOnce(check, fail, `a full read with batchSize ${batchSize}`);
  pages.forEach((page, i) => {
    if (page.records.length > batchSize) {
      fail(`page ${i + 1} has ${page.records.length} records; batchSize was ${batchSize}`);
    }
    page.records.forEach((record: unknown, r) => {
      if (!isPlainObject(record)) {
        failJson(`page ${i + 1}, record ${r} is not a plain object: ${describeValue(record)}`);
      }
      let copy: unknown;
      try {
        copy = JSON.parse(JSON.stringify(record));
      } catch (error) {
        failJson(`page ${i + 1}, record ${r} cannot be written as JSON: ${describeError(error)}`, error);
      }
      if (!isDeepStrictEqual(copy, record)) {
        failJson(
          `page ${i + 1}, record ${r} changes through JSON (Dates, BigInts, undefined, NaN or class ` +
            `instances must be mapped to JSON values): ${describeValue(record)}`,
        );
      }
    });
  });
  const { key, records } = check.dataset;
  const diff = compareKeys(keysOf(records, key), pageKeys(pages, key));
  if (diff.missing.length > 0) fail(`a full read is missing ${listKeys(diff.missing, key)}`);
  if (diff.unexpected.length > 0)
    fail(`a full read yielded ${listKeys(diff.unexpected, key)} that were never seeded`);
  if (diff.duplicates > 0) fail(`a full read yielded ${listKeys(diff.duplicated, key)} more than once`);
}

function describeValue(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  const name = Object.getPrototypeOf(value)?.constructor?.name ?? 'null-prototype object';
  try {
    return `${name} ${JSON.stringify(value)?.slice(0, 200)}`;
  } catch {
    return name;
  }
}

export interface StreamingCheck extends SourceCheck {
  /** How many records the source has pulled from its backend so far (rows fetched, lines read, …). */
  served: () => number | Promise<number>;
}

/** Rule streaming: the first page arrives before the backend has handed out every record. */
export async function assertStreams(check: StreamingCheck): Promise<void> {
  const fail = violation('source', check.name, 'streaming');
  const total = check.dataset.records.length;
  const source = await openSource(check.create, fail);
  const before = await check.served();
  const iterator = source
    .read({
      bookmark: undefined,
      batchSize: checkBatchSize(check),
      signal: new AbortController().signal,
      logger: silentLogger,
    })
    [Symbol.asyncIterator]();
  try {
    let first: IteratorResult<Page>;
    try {
      first = await iterator.next();
    } catch (error) {
      return fail(`the first page failed: ${describeError(error)}`, error);
    }
    if (first.done) return fail('the source yielded no page from a seeded dataset');
    const read = (await check.served()) - before;
    if (read >= total) {
      fail(
        `it had read all ${total} records from its backend (the probe counted ${read}) before yielding its ` +
          `first page of ${first.value.records.length}; it buffers the whole dataset instead of streaming`,
      );
    }
  } finally {
    await Promise.resolve(iterator.return?.()).catch(() => {});
    await closeQuietly(source);
  }
}

export interface BookmarkCheck extends SourceCheck {
  bookmarks: DeclaredBookmarks;
}

/** Rules bookmarks-declared and bookmark-round-trip. */
export async function assertBookmarkRoundTrip(check: BookmarkCheck): Promise<void> {
  const fail = violation('source', check.name, 'bookmark-round-trip');
  const failDeclared = violation('source', check.name, 'bookmarks-declared');
  const { key } = check.dataset;
  const pages = await readOnce(check, fail, 'the first full read');
  const last = pages.length - 1;
  if (last < 0) return fail('the source yielded no page from a seeded dataset');
  pages.forEach((page, i) => {
    if (page.bookmark === undefined) {
      if (check.bookmarks === 'every-page' && page.records.length > 0) {
        failDeclared(
          `page ${i + 1} of ${pages.length} has no bookmark, but the connector declares bookmarks: ` +
            `'every-page'`,
        );
      }
      if (check.bookmarks === 'final-page' && i === last) {
        failDeclared(
          `the final page (${pages.length}) has no bookmark, but the connector declares bookmarks: ` +
            `'final-page'`,
        );
      }
      return;
    }
    let copy: unknown;
    try {
      copy = throughJson(page.bookmark);
    } catch (error) {
      fail(`the bookmark of page ${i + 1} is not JSON: ${describeError(error)}`, error);
    }
    if (!isDeepStrictEqual(copy, page.bookmark)) {
      fail(
        `the bookmark of page ${i + 1} changes through JSON, so it cannot be stored: ` +
          `${describeValue(page.bookmark)}`,
      );
    }
  });

  const checkpoints = pages.flatMap((page, i) => (page.bookmark === undefined ? [] : [i]));
  const points =
    check.bookmarks === 'every-page'
      ? [
          ...new Set([
            checkpoints[0],
            checkpoints[Math.floor((checkpoints.length - 1) / 2)],
            checkpoints.at(-1),
          ]),
        ]
      : [checkpoints.at(-1)];
  for (const point of points) {
    if (point === undefined) continue;
    const bookmark = pages[point]?.bookmark as JsonValue;
    const before = new Set(pageKeys(pages.slice(0, point + 1), key));
    const after = pageKeys(pages.slice(point + 1), key);
    const where = `the bookmark of page ${point + 1} of ${pages.length} (${JSON.stringify(bookmark)})`;
    const resumed = pageKeys(
      await readOnce(check, fail, `a read resumed from ${where}`, throughJson(bookmark)),
      key,
    );
    const reread = resumed.filter((k) => before.has(k));
    if (reread.length > 0) {
      fail(`resuming from ${where} re-read ${listKeys(reread, key)} that came before the bookmark`);
    }
    const diff = compareKeys(after, resumed);
    if (diff.missing.length > 0) {
      fail(`resuming from ${where} skipped ${listKeys(diff.missing, key)} that came after the bookmark`);
    }
    if (diff.unexpected.length > 0)
      fail(`resuming from ${where} yielded ${listKeys(diff.unexpected, key)} never seeded`);
    if (diff.duplicates > 0) fail(`resuming from ${where} yielded ${listKeys(diff.duplicated, key)} twice`);
  }
}

export interface CrashResumeCheck extends SourceCheck {
  bookmarks: DeclaredBookmarks | false;
}

async function runOnce(
  create: SourceFactory,
  fail: ReturnType<typeof violation>,
  options: Omit<Parameters<typeof runPipeline>[0], 'source'>,
): Promise<PipelineResult> {
  const source = await openSource(create, fail);
  try {
    return await runPipeline({ ...options, source, pipeline: PIPELINE, retry: false });
  } finally {
    await closeQuietly(source);
  }
}

/** Most records between two checkpoints: what a crash may deliver twice. */
function checkpointInterval(pages: readonly Page[]): number {
  let longest = 0;
  let run = 0;
  for (const page of pages) {
    run += page.records.length;
    if (page.bookmark !== undefined) {
      longest = Math.max(longest, run);
      run = 0;
    }
  }
  return Math.max(longest, run);
}

function judgeDelivery(
  fail: ReturnType<typeof violation>,
  check: SourceCheck,
  storage: MemorySinkStorage,
  scenario: string,
  maxDuplicates: number,
): void {
  const { key, records } = check.dataset;
  const diff = compareKeys(keysOf(records, key), keysOf(storage.rows, key));
  if (diff.missing.length > 0) fail(`${scenario}: the sink ends up without ${listKeys(diff.missing, key)}`);
  if (diff.unexpected.length > 0)
    fail(`${scenario}: the sink holds ${listKeys(diff.unexpected, key)} never seeded`);
  if (diff.duplicates > maxDuplicates) {
    fail(
      `${scenario}: ${diff.duplicates} duplicate records, more than one checkpoint interval ` +
        `(${maxDuplicates}); duplicated: ${listKeys(diff.duplicated, key)}`,
    );
  }
}

function expectInjectedFailure(
  fail: ReturnType<typeof violation>,
  result: PipelineResult,
  scenario: string,
): void {
  if (result.status !== 'failed') {
    fail(
      `${scenario}: the run ended "${result.status}" although the failure was injected (did the source ` +
        `yield fewer pages than its first read?)`,
    );
  }
  if (!result.error?.message.includes('injected failure')) {
    fail(
      `${scenario}: the run failed, but not from the injected failure: ${describeError(result.error)}`,
      result.error,
    );
  }
}

/**
 * Rule crash-resume, through the real engine: (a) the sink fails at page k, (b) the state put of
 * checkpoint k fails; then a resumed run with fresh instances over the same sink storage and state.
 */
export async function assertSourceCrashResume(check: CrashResumeCheck): Promise<void> {
  const fail = violation('source', check.name, 'crash-resume');
  const batchSize = checkBatchSize(check);
  const pages = await readOnce(check, fail, 'the reference read');
  const interval = check.bookmarks === false ? check.dataset.records.length : checkpointInterval(pages);
  const crashPage = Math.max(2, Math.ceil(pages.length / 2));

  const scenarios: { name: string; sinkFailAt?: number; putFailAt?: number }[] = [
    { name: `the sink failed at page ${crashPage} of ${pages.length}`, sinkFailAt: crashPage },
  ];
  const checkpoints = pages.filter((p) => p.bookmark !== undefined).length;
  if (check.bookmarks !== false && checkpoints > 0) {
    const at = Math.max(1, Math.ceil(checkpoints / 2));
    scenarios.push({ name: `the state put of checkpoint ${at} of ${checkpoints} failed`, putFailAt: at });
  }

  for (const scenario of scenarios) {
    const storage = memorySinkStorage();
    const store: StateStore = createMemoryStateStore();
    const first = await runOnce(check.create, fail, {
      sink:
        scenario.sinkFailAt === undefined
          ? memorySink({ storage })
          : failingSink(memorySink({ storage }), { failAtWrite: scenario.sinkFailAt }),
      state:
        scenario.putFailAt === undefined
          ? store
          : failingStateStore(store, { failPutAt: scenario.putFailAt }),
      batchSize,
      connectors: { source: check.name },
    });
    expectInjectedFailure(fail, first, scenario.name);
    const second = await runOnce(check.create, fail, {
      sink: memorySink({ storage }),
      state: store,
      batchSize,
      connectors: { source: check.name },
    });
    if (second.status !== 'ok') {
      fail(
        `${scenario.name}; the resumed run ended "${second.status}": ${describeError(second.error)}`,
        second.error,
      );
    }
    judgeDelivery(fail, check, storage, `${scenario.name}, then a resumed run`, interval);
  }
}

interface TrackedSource {
  source: Source;
  /** Reads (next calls) that have not settled yet. */
  readonly pending: number;
  /** Pages yielded, in order. */
  readonly pages: Page[];
}

function trackSource(inner: Source): TrackedSource {
  let pending = 0;
  const pages: Page[] = [];
  const source: Source = {
    ...(inner.stateKey === undefined ? {} : { stateKey: inner.stateKey }),
    ...(inner.deterministic === undefined ? {} : { deterministic: inner.deterministic }),
    read(ctx) {
      const iterator = inner.read(ctx)[Symbol.asyncIterator]();
      const tracked: AsyncIterableIterator<Page> = {
        [Symbol.asyncIterator]() {
          return tracked;
        },
        next() {
          pending++;
          const step = iterator.next();
          step.then(
            (s) => {
              pending--;
              if (!s.done) pages.push(s.value);
            },
            () => {
              pending--;
            },
          );
          return step;
        },
        return(value?: unknown) {
          return iterator.return
            ? iterator.return(value)
            : Promise.resolve({ done: true, value: undefined } as IteratorResult<Page>);
        },
      };
      return tracked;
    },
  };
  return {
    source,
    get pending() {
      return pending;
    },
    pages,
  };
}

export interface CancellationCheck extends SourceCheck {
  bookmarks: DeclaredBookmarks | false;
}

/** How long a source may keep reading after a run was cancelled. */
const STOP_GRACE_MS = 1_000;

/**
 * Rule cancellation: the run is cancelled while page 2 is being written. Page 2 must be finished and
 * durable, nothing after it written, the source's read must stop (no read still running a second
 * later), and with per-page bookmarks the stored state is page 2's bookmark and a resumed run
 * delivers the rest.
 */
export async function assertSourceCancellation(check: CancellationCheck): Promise<void> {
  const fail = violation('source', check.name, 'cancellation');
  const batchSize = checkBatchSize(check);
  const { key, records } = check.dataset;
  const storage = memorySinkStorage();
  const store = createMemoryStateStore();
  const controller = new AbortController();
  const sent: FaucetRecord[] = [];
  const sink = failingSink(memorySink({ storage }), {
    onWrite: (n, batch) => {
      sent.push(...batch);
      if (n === 2) controller.abort();
    },
  });
  const tracked = trackSource(await openSource(check.create, fail));
  let result: PipelineResult;
  try {
    result = await runPipeline({
      source: tracked.source,
      sink,
      state: store,
      batchSize,
      signal: controller.signal,
      closeGraceMs: STOP_GRACE_MS,
      pipeline: PIPELINE,
      retry: false,
      connectors: { source: check.name },
    });
    if (tracked.pending > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    if (tracked.pending > 0) {
      fail(
        `the source was still reading more than ${STOP_GRACE_MS} ms after the run was cancelled; a source ` +
          'must stop waiting (sleeps, long polls, retries) when ctx.signal aborts',
      );
    }
  } finally {
    await closeQuietly(tracked.source);
  }
  if (result.status !== 'cancelled') {
    fail(
      `the run was cancelled during page 2 but ended "${result.status}": ${describeError(result.error)}`,
      result.error,
    );
  }
  if (sink.writes !== 2)
    fail(`the run wrote ${sink.writes} pages; it should stop after page 2, the one being written`);
  const diff = compareKeys(keysOf(sent, key), keysOf(storage.rows, key));
  if (diff.missing.length > 0) {
    fail(
      `the page being written when the run was cancelled was not made durable: ` +
        `${listKeys(diff.missing, key)} lost`,
    );
  }
  if (check.bookmarks !== 'every-page') return;

  const page2 = tracked.pages[1];
  const stored = unwrapState(await store.get(result.stateKey)).bookmark;
  if (page2?.bookmark === undefined || !isDeepStrictEqual(stored, throughJson(page2.bookmark))) {
    fail(
      `after cancelling during page 2 the stored bookmark is ${JSON.stringify(stored)}, not page 2's ` +
        `(${JSON.stringify(page2?.bookmark)})`,
    );
  }
  const resumed = await runOnce(check.create, fail, {
    sink: memorySink({ storage }),
    state: store,
    batchSize,
    connectors: { source: check.name },
  });
  if (resumed.status !== 'ok')
    fail(`the run resumed after cancellation ended "${resumed.status}"`, resumed.error);
  const all = compareKeys(keysOf(records, key), keysOf(storage.rows, key));
  if (all.missing.length > 0) fail(`after cancel and resume the sink lacks ${listKeys(all.missing, key)}`);
  if (all.duplicates > 0)
    fail(`after cancel and resume ${listKeys(all.duplicated, key)} were delivered twice`);
}
