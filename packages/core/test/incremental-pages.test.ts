import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createCursorFilter,
  createRunningMax,
  type FaucetRecord,
  type JsonValue,
  type Page,
  type PaginateOptions,
  paginateRecords,
} from '../src/index.js';

const rows = (n: number, from = 1): FaucetRecord[] => Array.from({ length: n }, (_, i) => ({ id: from + i }));

async function collect(pages: AsyncIterable<Page>): Promise<Page[]> {
  const out: Page[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

/** Page sizes and bookmarks, the parts a user sees. */
const summary = (pages: Page[]) => pages.map((p) => [p.records.length, p.bookmark]);

async function* asAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) yield item;
}

const byId = { bookmark: (last: FaucetRecord, count: number) => ({ id: last.id ?? null, count }) };

describe('paginateRecords', () => {
  it('splits records into pages of at most batchSize, from sync or async input', async () => {
    const sync = await collect(paginateRecords(rows(5), { batchSize: 2 }));
    expect(sync.map((p) => p.records)).toEqual([rows(2), rows(2, 3), rows(1, 5)]);
    expect(sync.every((p) => !('bookmark' in p))).toBe(true);
    expect(summary(await collect(paginateRecords(asAsync(rows(5)), { batchSize: 2 })))).toEqual(
      summary(sync),
    );
  });

  it('streams: takes 3 pages from an infinite source, reads only what it needs, closes it', async () => {
    for (const options of [
      { batchSize: 2 },
      { batchSize: 2, checkpoint: byId },
      { batchSize: 2, checkpoint: { ...byId, every: 3 } },
      { batchSize: 2, finalBookmark: () => 'never' },
    ] satisfies PaginateOptions[]) {
      let pulled = 0;
      let closed = false;
      async function* forever(): AsyncGenerator<FaucetRecord> {
        try {
          for (let id = 1; ; id += 1) {
            pulled += 1;
            yield { id };
          }
        } finally {
          closed = true;
        }
      }
      const pages: Page[] = [];
      for await (const page of paginateRecords(forever(), options)) {
        pages.push(page);
        if (pages.length === 3) break;
      }
      expect(pages.map((p) => p.records)).toEqual([rows(2), rows(2, 3), rows(2, 5)]);
      expect(pulled).toBeLessThanOrEqual(7);
      expect(closed).toBe(true);
    }
  });

  it('checkpoints every page by default (ordered sources)', async () => {
    const pages = await collect(paginateRecords(rows(5), { batchSize: 2, checkpoint: byId }));
    expect(summary(pages)).toEqual([
      [2, { id: 2, count: 2 }],
      [2, { id: 4, count: 4 }],
      [1, { id: 5, count: 5 }],
    ]);
  });

  it('checkpoints at the first page boundary after every N records, and on the last page', async () => {
    const pages = await collect(
      paginateRecords(rows(10), { batchSize: 2, checkpoint: { ...byId, every: 5 } }),
    );
    expect(summary(pages)).toEqual([
      [2, undefined],
      [2, undefined],
      [2, { id: 6, count: 6 }],
      [2, undefined],
      [2, { id: 10, count: 10 }],
    ]);
    const exact = await collect(
      paginateRecords(rows(4), { batchSize: 2, checkpoint: { ...byId, every: 3 } }),
    );
    expect(summary(exact)).toEqual([
      [2, undefined],
      [2, { id: 4, count: 4 }],
    ]);
  });

  it('does not add a checkpoint to the last page when nothing passed since the previous one', async () => {
    const pages = await collect(
      paginateRecords(rows(4), { batchSize: 2, checkpoint: { ...byId, every: 2 } }),
    );
    expect(summary(pages)).toEqual([
      [2, { id: 2, count: 2 }],
      [2, { id: 4, count: 4 }],
    ]);
  });

  it('skips a checkpoint whose bookmark is undefined and tries again at the next boundary', async () => {
    const bookmark = (last: FaucetRecord): JsonValue | undefined =>
      last.id === 2 ? undefined : (last.id ?? null);
    const pages = await collect(
      paginateRecords(rows(5), { batchSize: 2, checkpoint: { bookmark, every: 2 } }),
    );
    expect(summary(pages)).toEqual([
      [2, undefined],
      [2, 4],
      [1, 5],
    ]);
  });

  it('puts the final bookmark on the last page only (unordered sources)', async () => {
    let calls = 0;
    const finalBookmark = () => {
      calls += 1;
      return 'max';
    };
    expect(summary(await collect(paginateRecords(rows(5), { batchSize: 2, finalBookmark })))).toEqual([
      [2, undefined],
      [2, undefined],
      [1, 'max'],
    ]);
    // an exact multiple of batchSize: still no extra empty page
    expect(
      summary(await collect(paginateRecords(asAsync(rows(4)), { batchSize: 2, finalBookmark }))),
    ).toEqual([
      [2, undefined],
      [2, 'max'],
    ]);
    expect(calls).toBe(2);
  });

  it('prefers the final bookmark over a checkpoint on the last page', async () => {
    const options = { batchSize: 2, checkpoint: byId, finalBookmark: () => 'final' };
    expect(summary(await collect(paginateRecords(rows(3), options)))).toEqual([
      [2, { id: 2, count: 2 }],
      [1, 'final'],
    ]);
  });

  it('yields one empty page with the final bookmark for zero records, and nothing otherwise', async () => {
    expect(await collect(paginateRecords([], { batchSize: 2, finalBookmark: () => ({ max: 7 }) }))).toEqual([
      { records: [], bookmark: { max: 7 } },
    ]);
    expect(await collect(paginateRecords([], { batchSize: 2 }))).toEqual([]);
    expect(await collect(paginateRecords([], { batchSize: 2, finalBookmark: () => undefined }))).toEqual([]);
    expect(await collect(paginateRecords(asAsync([]), { batchSize: 2, checkpoint: byId }))).toEqual([]);
  });

  it('rejects a batch size or interval below 1 when called', () => {
    expect(() => paginateRecords([], { batchSize: 0 })).toThrow(ConfigError);
    expect(() => paginateRecords([], { batchSize: 1.5 })).toThrow(/batch_size/);
    expect(() => paginateRecords([], { batchSize: 1, checkpoint: { ...byId, every: 0 } })).toThrow(
      /checkpoint_interval/,
    );
  });

  it('passes on an error from the input', async () => {
    async function* broken(): AsyncGenerator<FaucetRecord> {
      yield { id: 1 };
      throw new Error('connection lost');
    }
    await expect(collect(paginateRecords(broken(), { batchSize: 5 }))).rejects.toThrow('connection lost');
  });
});

describe('an unordered incremental read, run twice', () => {
  /** What a REST source does: filter on the stored bookmark, track the max, save it on the last page. */
  function read(api: FaucetRecord[], bookmark: JsonValue | undefined): AsyncGenerator<Page> {
    const filter = createCursorFilter({ cursorField: 'updated_at', after: bookmark });
    const max = createRunningMax({ cursorField: 'updated_at', initial: bookmark });
    async function* records() {
      for (const record of api) {
        if (!filter(record)) continue;
        max.observe(record);
        yield record;
      }
    }
    return paginateRecords(records(), { batchSize: 2, finalBookmark: () => max.value });
  }

  it('reads only what changed since the last run', async () => {
    const api = [
      { id: 1, updated_at: '2024-01-03T00:00:00Z' },
      { id: 2, updated_at: '2024-01-01T00:00:00Z' },
      { id: 3, updated_at: '2024-01-02T00:00:00Z' },
    ];
    const first = await collect(read(api, undefined));
    expect(first.flatMap((p) => p.records).map((r) => r.id)).toEqual([1, 2, 3]);
    const bookmark = first.at(-1)?.bookmark;
    expect(bookmark).toBe('2024-01-03T00:00:00Z');

    api.push({ id: 2, updated_at: '2024-01-04T00:00:00.000Z' });
    const second = await collect(read(api, bookmark));
    expect(second).toEqual([{ records: [api[3]], bookmark: '2024-01-04T00:00:00.000Z' }]);

    const third = await collect(read(api, second.at(-1)?.bookmark));
    expect(third).toEqual([{ records: [], bookmark: '2024-01-04T00:00:00.000Z' }]);
  });
});
