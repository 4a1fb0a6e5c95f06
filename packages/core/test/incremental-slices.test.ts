import { describe, expect, it } from 'vitest';
import {
  CancelledError,
  ConfigError,
  type FaucetRecord,
  isPartialWindow,
  type JsonValue,
  type Page,
  type ReadSlicesOptions,
  readSlices,
  type SlicePage,
  type TimeWindow,
  timeWindows,
} from '../src/index.js';

const HOUR = 3_600_000;

async function collect(pages: AsyncIterable<Page>): Promise<Page[]> {
  const out: Page[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

describe('timeWindows', () => {
  it('covers start..end in windows, the last one clipped to end', () => {
    const windows = timeWindows({
      start: '2024-01-01T00:00:00Z',
      end: '2024-01-01T05:30:00Z',
      windowMs: 2 * HOUR,
    });
    expect(windows).toEqual([
      { id: '2024-01-01T00:00:00.000Z', start: '2024-01-01T00:00:00.000Z', end: '2024-01-01T02:00:00.000Z' },
      { id: '2024-01-01T02:00:00.000Z', start: '2024-01-01T02:00:00.000Z', end: '2024-01-01T04:00:00.000Z' },
      { id: '2024-01-01T04:00:00.000Z', start: '2024-01-01T04:00:00.000Z', end: '2024-01-01T05:30:00.000Z' },
    ]);
    expect(windows.map((w) => isPartialWindow(w, 2 * HOUR))).toEqual([false, false, true]);
  });

  it('accepts Dates, dates without time and offsets; a timestamp without offset is UTC', () => {
    const fromDates = timeWindows({
      start: new Date(Date.UTC(2024, 0, 1)),
      end: new Date(Date.UTC(2024, 0, 3)),
      windowMs: 24 * HOUR,
    });
    expect(fromDates.map((w) => w.id)).toEqual(['2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z']);
    expect(timeWindows({ start: '2024-01-01', end: '2024-01-03T00:00:00', windowMs: 24 * HOUR })).toEqual(
      fromDates,
    );
    expect(
      timeWindows({ start: '2024-01-01T02:00:00+02:00', end: '2024-01-01T01:00:00Z', windowMs: HOUR }),
    ).toEqual([
      { id: '2024-01-01T00:00:00.000Z', start: '2024-01-01T00:00:00.000Z', end: '2024-01-01T01:00:00.000Z' },
    ]);
  });

  it('keeps window ids when end moves, and ends at now by default', () => {
    const early = timeWindows({ start: '2024-01-01', end: '2024-01-01T05:00:00Z', windowMs: 2 * HOUR });
    const late = timeWindows({ start: '2024-01-01', end: '2024-01-01T09:00:00Z', windowMs: 2 * HOUR });
    expect(late.map((w) => w.id).slice(0, early.length)).toEqual(early.map((w) => w.id));
    const recent = timeWindows({ start: new Date(Date.now() - 2.5 * HOUR), windowMs: HOUR });
    expect(recent).toHaveLength(3);
    expect(Date.parse(recent.at(-1)?.end ?? '')).toBeLessThanOrEqual(Date.now());
  });

  it('is empty when end is not after start, and rejects bad input', () => {
    expect(timeWindows({ start: '2024-01-02', end: '2024-01-01', windowMs: HOUR })).toEqual([]);
    expect(timeWindows({ start: '2024-01-01', end: '2024-01-01', windowMs: HOUR })).toEqual([]);
    expect(() => timeWindows({ start: 'yesterday', end: '2024-01-01', windowMs: HOUR })).toThrow(ConfigError);
    expect(() => timeWindows({ start: '2024-02-30', end: '2024-03-01', windowMs: HOUR })).toThrow(/start/);
    expect(() => timeWindows({ start: '2024-01-01', end: '2024-01-02', windowMs: 0 })).toThrow(/window_ms/);
    expect(() => timeWindows({ start: '2000-01-01', end: '2024-01-01', windowMs: 1000 })).toThrow(/at most/);
  });
});

type Slice = { name: string; pages: SlicePage[] };

/** A slice reader over canned pages that records what it was asked for. */
function harness(slices: Slice[]) {
  const reads: { name: string; bookmark: JsonValue | undefined; ctxBookmark: JsonValue | undefined }[] = [];
  const options = (bookmark: JsonValue | undefined): ReadSlicesOptions<Slice> => ({
    slices,
    sliceId: (s) => s.name,
    bookmark,
    async *readSlice(slice, ctx, inner) {
      reads.push({ name: slice.name, bookmark: inner, ctxBookmark: ctx.bookmark });
      expect(ctx.signal).toBeInstanceOf(AbortSignal);
      yield* slice.pages;
    },
  });
  return { reads, options };
}

const rec = (id: number): FaucetRecord => ({ id });

const ABC: Slice[] = [
  { name: 'a', pages: [{ records: [rec(1), rec(2)] }, { records: [rec(3)] }] },
  { name: 'b', pages: [] },
  { name: 'c', pages: [{ records: [rec(4)], bookmark: 'c-token' }, { records: [rec(5)] }] },
];

describe('readSlices', () => {
  it('checkpoints on the last page of each slice, with an empty page for an empty slice', async () => {
    const { reads, options } = harness(ABC);
    const pages = await collect(readSlices(options(undefined)));
    expect(pages).toEqual([
      { records: [rec(1), rec(2)] },
      { records: [rec(3)], bookmark: { slices: { completed: 'a' } } },
      { records: [], bookmark: { slices: { completed: 'b' } } },
      { records: [rec(4)], bookmark: { slices: { completed: 'b', current: 'c', inner: 'c-token' } } },
      { records: [rec(5)], bookmark: { slices: { completed: 'c' } } },
    ]);
    expect(reads.map((r) => [r.name, r.bookmark])).toEqual([
      ['a', undefined],
      ['b', undefined],
      ['c', undefined],
    ]);
  });

  it('wraps an inner bookmark of the first slice with completed: null', async () => {
    const { options } = harness([
      { name: 'a', pages: [{ records: [rec(1)], bookmark: 1 }, { records: [rec(2)] }] },
    ]);
    const pages = await collect(readSlices(options(undefined)));
    expect(pages[0]?.bookmark).toEqual({ slices: { completed: null, current: 'a', inner: 1 } });
    // the slice's own bookmark on its last page gives way to the completion
    const { options: last } = harness([{ name: 'a', pages: [{ records: [rec(1)], bookmark: 1 }] }]);
    expect(await collect(readSlices(last(undefined)))).toEqual([
      { records: [rec(1)], bookmark: { slices: { completed: 'a' } } },
    ]);
  });

  it('resumes at the first unfinished slice', async () => {
    const { reads, options } = harness(ABC);
    const pages = await collect(readSlices(options({ slices: { completed: 'a' } })));
    expect(reads.map((r) => r.name)).toEqual(['b', 'c']);
    expect(pages[0]).toEqual({ records: [], bookmark: { slices: { completed: 'b' } } });
    const done = harness(ABC);
    expect(await collect(readSlices(done.options({ slices: { completed: 'c' } })))).toEqual([]);
    expect(done.reads).toEqual([]);
  });

  it('resumes inside a slice, handing it its inner bookmark', async () => {
    const { reads, options } = harness(ABC);
    const stored = { slices: { completed: 'b', current: 'c', inner: 'c-token' } };
    const pages = await collect(readSlices(options(stored)));
    expect(reads).toEqual([{ name: 'c', bookmark: 'c-token', ctxBookmark: 'c-token' }]);
    expect(pages.at(-1)?.bookmark).toEqual({ slices: { completed: 'c' } });

    const first = harness(ABC);
    await collect(readSlices(first.options({ slices: { completed: null, current: 'a', inner: 7 } })));
    expect(first.reads.map((r) => [r.name, r.bookmark])).toEqual([
      ['a', 7],
      ['b', undefined],
      ['c', undefined],
    ]);
  });

  it('treats a resume from each of its own bookmarks as exact: nothing lost, nothing repeated', async () => {
    const slices: Slice[] = [
      { name: 'x', pages: [{ records: [rec(1)], bookmark: 'x1' }, { records: [rec(2)] }] },
      { name: 'y', pages: [{ records: [rec(3)] }] },
    ];
    const all = await collect(readSlices(harness(slices).options(undefined)));
    for (const [i, page] of all.entries()) {
      if (page.bookmark === undefined) continue;
      // a resumed slice reader continues after its inner bookmark
      const resumed: Slice[] = slices.map((s) => ({
        ...s,
        pages: s.name === 'x' ? s.pages.slice(1) : s.pages,
      }));
      const rest = await collect(readSlices(harness(resumed).options(page.bookmark)));
      const ids = (pages: Page[]) => pages.flatMap((p) => p.records.map((r) => r.id));
      expect(ids(rest), JSON.stringify(page.bookmark)).toEqual(ids(all.slice(i + 1)));
    }
  });

  it('throws a ConfigError when the stored slice ids are not in the list', async () => {
    const missing = readSlices(harness(ABC).options({ slices: { completed: 'zzz' } }));
    await expect(collect(missing)).rejects.toThrow(ConfigError);
    await expect(collect(readSlices(harness(ABC).options({ slices: { completed: 'zzz' } })))).rejects.toThrow(
      /slice list changed/,
    );
    const moved = { slices: { completed: 'a', current: 'c', inner: 1 } };
    await expect(collect(readSlices(harness(ABC).options(moved)))).rejects.toThrow(/slice list changed/);
    const gone = { slices: { completed: 'c', current: 'd', inner: 1 } };
    await expect(collect(readSlices(harness(ABC).options(gone)))).rejects.toThrow(/slice list changed/);
  });

  it('rejects a stored bookmark that is not a slices bookmark, and duplicate ids', () => {
    for (const bookmark of ['2024-01-01', { cursor: 1 }, { slices: { completed: 3 } }, { slices: [] }]) {
      expect(() => readSlices(harness(ABC).options(bookmark)), JSON.stringify(bookmark)).toThrow(ConfigError);
    }
    const twice = harness([ABC[0]!, ABC[0]!]).options(undefined);
    return expect(collect(readSlices(twice))).rejects.toThrow(/appears twice/);
  });

  it('stops before the next slice once the signal aborts', async () => {
    const controller = new AbortController();
    const { reads, options } = harness(ABC);
    const pages = readSlices({ ...options(undefined), signal: controller.signal });
    const seen: Page[] = [];
    await expect(
      (async () => {
        for await (const page of pages) {
          seen.push(page);
          if (page.bookmark !== undefined) controller.abort('stop');
        }
      })(),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(reads.map((r) => r.name)).toEqual(['a']);
    expect(seen).toHaveLength(2);
  });

  it('reads a partial last window again on the next run instead of skipping its new part', async () => {
    const windowMs = 2 * HOUR;
    const events = [
      '2024-01-01T01:00:00Z',
      '2024-01-01T03:00:00Z',
      '2024-01-01T05:00:00Z',
      '2024-01-01T05:45:00Z',
    ];
    const run = (end: string, bookmark: JsonValue | undefined) =>
      collect(
        readSlices<TimeWindow>({
          slices: timeWindows({ start: '2024-01-01T00:00:00Z', end, windowMs }),
          sliceId: (w) => w.id,
          isPartial: (w) => isPartialWindow(w, windowMs),
          bookmark,
          async *readSlice(w) {
            const inWindow = events.filter(
              (e) => e >= w.start.replace('.000', '') && e < w.end.replace('.000', ''),
            );
            yield { records: inWindow.map((at) => ({ at })), bookmark: 'inner' };
          },
        }),
      );
    // run 1 at 05:30: the 04:00 window is partial (04:00-05:30)
    const first = await run('2024-01-01T05:30:00Z', undefined);
    expect(first.map((p) => [p.records.map((r) => r.at), p.bookmark])).toEqual([
      [['2024-01-01T01:00:00Z'], { slices: { completed: '2024-01-01T00:00:00.000Z' } }],
      [['2024-01-01T03:00:00Z'], { slices: { completed: '2024-01-01T02:00:00.000Z' } }],
      [['2024-01-01T05:00:00Z'], { slices: { completed: '2024-01-01T02:00:00.000Z' } }],
    ]);
    // run 2 at 07:00 resumes at the 04:00 window, now full, and finds the 05:45 event too
    const second = await run('2024-01-01T07:00:00Z', first.at(-1)?.bookmark);
    expect(second.flatMap((p) => p.records.map((r) => r.at))).toEqual([
      '2024-01-01T05:00:00Z',
      '2024-01-01T05:45:00Z',
    ]);
    expect(second.at(-1)?.bookmark).toEqual({ slices: { completed: '2024-01-01T04:00:00.000Z' } });
  });

  it('refuses a partial slice that is not the last one', async () => {
    const { options } = harness(ABC);
    await expect(
      collect(readSlices({ ...options(undefined), isPartial: (s) => s.name === 'a' })),
    ).rejects.toThrow(/only the last slice/);
  });
});
