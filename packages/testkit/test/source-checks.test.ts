/**
 * Every source check passes on a good double and fails (with its own rule) on a broken one.
 */
import {
  assertBookmarkRoundTrip,
  assertBoundedPages,
  assertSourceCancellation,
  assertSourceCrashResume,
  assertSourceUnreachable,
  assertStreams,
  memorySource,
} from '@faucet/testkit';
import { describe, expect, it } from 'vitest';
import { downSource, hang, leakyRefusal, namelessRefusal, rawRefusal, toySource } from './broken.js';
import { closedPort, dataset, mustBreak, records, refused } from './helpers.js';

const good = () => memorySource({ records });
const base = { name: 'toy', dataset };

describe('bounded-pages', () => {
  it('passes on the memory source', () => assertBoundedPages({ ...base, create: good }));
  it('passes on a source with smaller pages than asked', () =>
    assertBoundedPages({
      ...base,
      create: () => toySource({ records, pageSize: (b) => Math.max(1, b - 3) }),
    }));
  it.fails('fails on a source that ignores batchSize', () =>
    mustBreak('bounded-pages', () =>
      assertBoundedPages({ ...base, create: () => toySource({ records, pageSize: () => 50 }) }),
    ));
  it.fails('fails on a source that loses a record', () =>
    mustBreak('bounded-pages', () =>
      assertBoundedPages({ ...base, create: () => toySource({ records: records.slice(1) }) }),
    ));
  it.fails('fails on a source that yields Date objects (records-json)', () =>
    mustBreak('records-json', () =>
      assertBoundedPages({ ...base, create: () => toySource({ records, dates: true }) }),
    ));
  it('names the connector, the rule and the page in its message', async () => {
    const error = await assertBoundedPages({
      ...base,
      create: () => toySource({ records, pageSize: () => 50 }),
    }).catch((e: Error) => e);
    expect(String(error)).toMatch(
      /source "toy" breaks rule bounded-pages \(pages never exceed .*page 1 has 50 records; batchSize was 15/,
    );
  });
});

describe('streaming', () => {
  it('passes on the lazy memory source', () => {
    const source = memorySource({ records });
    return assertStreams({ ...base, create: () => source, served: () => source.served });
  });
  it.fails('fails on a source that buffers everything before yielding', () => {
    const source = toySource({ records, bufferFirst: true });
    return mustBreak('streaming', () =>
      assertStreams({ ...base, create: () => source, served: () => source.served }),
    );
  });
});

describe('bookmark-round-trip', () => {
  it('passes on the memory source (every page)', () =>
    assertBookmarkRoundTrip({ ...base, create: good, bookmarks: 'every-page' }));
  it('passes on the memory source (final page)', () =>
    assertBookmarkRoundTrip({
      ...base,
      create: () => memorySource({ records, bookmarks: 'final-page' }),
      bookmarks: 'final-page',
    }));
  it.fails('fails on a source that ignores its bookmark', () =>
    mustBreak('bookmark-round-trip', () =>
      assertBookmarkRoundTrip({
        ...base,
        create: () => toySource({ records, resumeAt: () => 0 }),
        bookmarks: 'every-page',
      }),
    ));
  it.fails('fails on a source that skips a record on resume', () =>
    mustBreak('bookmark-round-trip', () =>
      assertBookmarkRoundTrip({
        ...base,
        create: () => toySource({ records, resumeAt: (o) => o + 1 }),
        bookmarks: 'every-page',
      }),
    ));
  it.fails('fails on a source that declares every-page bookmarks but puts one on the last page only', () =>
    mustBreak('bookmarks-declared', () =>
      assertBookmarkRoundTrip({
        ...base,
        create: () => memorySource({ records, bookmarks: 'final-page' }),
        bookmarks: 'every-page',
      }),
    ));
});

describe('crash-resume', () => {
  it('passes on the memory source (every page)', () =>
    assertSourceCrashResume({ ...base, create: good, bookmarks: 'every-page' }));
  it('passes on the memory source without bookmarks (a resumed run re-reads everything)', () =>
    assertSourceCrashResume({
      ...base,
      create: () => memorySource({ records, bookmarks: false }),
      bookmarks: false,
    }));
  it.fails('fails on a source whose bookmark object is mutated after it was yielded (state runs ahead)', () =>
    mustBreak('crash-resume', () =>
      assertSourceCrashResume({
        ...base,
        create: () => toySource({ records, aliasBookmark: true }),
        bookmarks: 'every-page',
      }),
    ));
  it.fails('fails on a source that skips a record on resume', () =>
    mustBreak('crash-resume', () =>
      assertSourceCrashResume({
        ...base,
        create: () => toySource({ records, resumeAt: (o) => o + 1 }),
        bookmarks: 'every-page',
      }),
    ));
});

describe('cancellation', () => {
  it('passes on the memory source', () =>
    assertSourceCancellation({ ...base, create: good, bookmarks: 'every-page' }));
  it('passes on a polling source that stops waiting when the signal aborts', () =>
    assertSourceCancellation({
      ...base,
      create: () => toySource({ records, delayMs: 3_000 }),
      bookmarks: 'every-page',
    }));
  it.fails('fails on a polling source that ignores the signal', () =>
    mustBreak('cancellation', () =>
      assertSourceCancellation({
        ...base,
        create: () => toySource({ records, delayMs: 3_000, ignoreSignal: true }),
        bookmarks: 'every-page',
      }),
    ));
  it.fails('fails on a source whose bookmark runs ahead of the page it is on', () =>
    mustBreak('cancellation', () =>
      assertSourceCancellation({
        ...base,
        create: () => toySource({ records, aliasBookmark: true }),
        bookmarks: 'every-page',
      }),
    ));
});

describe('typed-errors (unreachable server)', () => {
  const check = (fail: () => Error | Promise<never>) => () =>
    assertSourceUnreachable({ name: 'toy', ...closedPort, create: () => downSource(fail), timeoutMs: 500 });
  it('passes on a source that throws a ConnectionError naming host:port', check(refused));
  it.fails('fails on a source that throws the raw client error', () =>
    mustBreak('typed-errors', check(rawRefusal)));
  it.fails('fails on a source whose error contains the password', () =>
    mustBreak('typed-errors', check(leakyRefusal)));
  it.fails('fails on a source whose error does not name the server', () =>
    mustBreak('typed-errors', check(namelessRefusal)));
  it.fails('fails on a source that hangs instead of failing', () => mustBreak('typed-errors', check(hang)));
});
