import { describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  checkpointIntervalSchema,
  compareCursor,
  createCursorFilter,
  createRunningMax,
  cursorValue,
  type FaucetRecord,
  type JsonValue,
  type Logger,
  primaryKeysSchema,
  replicationMethodSchema,
  resolveStartBookmark,
} from '../src/index.js';

function spyLogger() {
  const warn = vi.fn();
  const logger: Logger = { debug: vi.fn(), info: vi.fn(), warn, error: vi.fn() };
  return { logger, warn };
}

describe('replication config', () => {
  it('defaults to FullTable', () => {
    expect(replicationMethodSchema.parse(undefined)).toEqual({ type: 'FullTable' });
    expect(replicationMethodSchema.parse({ type: 'FullTable' })).toEqual({ type: 'FullTable' });
  });

  it('reads Incremental with a cursor field, dotted paths and an optional start value', () => {
    expect(replicationMethodSchema.parse({ type: 'Incremental', cursor_field: 'updated_at' })).toEqual({
      type: 'Incremental',
      cursor_field: 'updated_at',
    });
    const nested = { type: 'Incremental', cursor_field: 'meta.updated_at', start_value: '2024-01-01' };
    expect(replicationMethodSchema.parse(nested)).toEqual(nested);
    expect(
      replicationMethodSchema.parse({ type: 'Incremental', cursor_field: 'id', start_value: 100 }),
    ).toEqual({
      type: 'Incremental',
      cursor_field: 'id',
      start_value: 100,
    });
  });

  it('rejects a missing or malformed cursor field, unknown keys, bad start values and types', () => {
    const bad: unknown[] = [
      { type: 'Incremental' },
      { type: 'Incremental', cursor_field: '' },
      { type: 'Incremental', cursor_field: 'a..b' },
      { type: 'Incremental', cursor_field: '.a' },
      { type: 'Incremental', cursor_field: 'a', start_value: true },
      { type: 'Incremental', cursor_feld: 'a' },
      { type: 'FullTable', cursor_field: 'a' },
      { type: 'LogBased' },
    ];
    for (const input of bad)
      expect(replicationMethodSchema.safeParse(input).success, JSON.stringify(input)).toBe(false);
  });

  it('checks primary keys and checkpoint_interval', () => {
    expect(primaryKeysSchema.parse(['id', 'tenant'])).toEqual(['id', 'tenant']);
    expect(primaryKeysSchema.safeParse(['']).success).toBe(false);
    expect(primaryKeysSchema.safeParse(['id', 'id']).success).toBe(false);
    expect(checkpointIntervalSchema.parse(500)).toBe(500);
    expect(checkpointIntervalSchema.safeParse(0).success).toBe(false);
  });

  it('lets a stored bookmark win over start_value', () => {
    expect(resolveStartBookmark('2024-06-01', '2024-01-01')).toBe('2024-06-01');
    expect(resolveStartBookmark(0, 100)).toBe(0);
    expect(resolveStartBookmark(undefined, '2024-01-01')).toBe('2024-01-01');
    expect(resolveStartBookmark(null, '2024-01-01')).toBe('2024-01-01');
    expect(resolveStartBookmark(undefined, undefined)).toBeUndefined();
  });
});

describe('compareCursor', () => {
  const cases: [JsonValue | undefined, JsonValue | undefined, -1 | 0 | 1 | undefined][] = [
    // numbers
    [1, 2, -1],
    [2.5, 2, 1],
    [3, 3, 0],
    // integer strings (int8 beyond 2^53) compare exactly, and by value, not by text
    ['9007199254740993', '9007199254740992', 1],
    ['10', '9', 1],
    ['-5', '3', -1],
    ['007', '7', 0],
    // decimal strings (Postgres numeric)
    ['12.50', '12.5', 0],
    ['0.1', '0.10000000000000001', -1],
    ['-1.5', '-1.25', -1],
    ['1e3', '999', 1],
    // a number against a numeric string: by value
    [10, '9', 1],
    ['9007199254740993', 9007199254740992, 1],
    [0.1, '0.1', 0],
    [5, 'abc', undefined],
    ['2024-01-01T00:00:00Z', 5, undefined],
    // ISO-8601
    ['2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', -1],
    ['2024-01-01T00:00:00Z', '2024-01-01T00:00:00.000Z', 0],
    ['2024-01-01T00:00:00.5Z', '2024-01-01T00:00:00Z', 1],
    ['2024-01-01T00:00:00.123456Z', '2024-01-01T00:00:00.123457+00:00', -1],
    ['2024-01-01T02:00:00+02:00', '2024-01-01T00:00:00Z', 0],
    // same layout, different offsets: 22:00Z the day before vs 23:00Z the day before
    ['2024-01-01T00:00:00+02:00', '2024-01-01T00:00:00+01:00', -1],
    ['2024-01-02', '2024-01-01T23:59:59Z', 1],
    ['2024-01-01 00:00:00+00', '2024-01-01T00:00:00Z', 0],
    ['2024-01-01T00:00:00', '2024-01-01T00:00:00Z', 0],
    // other strings: lexicographic
    ['b', 'a', 1],
    ['abc', 'abd', -1],
    // incomparable
    [true, false, undefined],
    [true, true, undefined],
    [null, null, undefined],
    [{ a: 1 }, { a: 1 }, undefined],
    [[1], [2], undefined],
    [undefined, 1, undefined],
  ];

  for (const [a, b, expected] of cases) {
    it(`${JSON.stringify(a)} vs ${JSON.stringify(b)} -> ${expected}`, () => {
      expect(compareCursor(a, b)).toBe(expected);
      const reversed = expected === undefined ? undefined : expected === 0 ? 0 : -expected;
      expect(compareCursor(b, a)).toBe(reversed);
    });
  }
});

describe('cursorValue', () => {
  const record: FaucetRecord = {
    id: 1,
    meta: { updated_at: '2024-01-01', tags: null },
    items: [{ ts: 5 }],
    'a.b': 'flat',
    a: { b: 'nested' },
  };

  it('reads keys, dotted paths and array indexes', () => {
    expect(cursorValue(record, 'id')).toBe(1);
    expect(cursorValue(record, 'meta.updated_at')).toBe('2024-01-01');
    expect(cursorValue(record, 'items.0.ts')).toBe(5);
  });

  it('prefers a key that contains the dots', () => {
    expect(cursorValue(record, 'a.b')).toBe('flat');
  });

  it('is undefined for missing fields, never inherited properties', () => {
    expect(cursorValue(record, 'missing')).toBeUndefined();
    expect(cursorValue(record, 'meta.tags.x')).toBeUndefined();
    expect(cursorValue(record, 'items.x')).toBeUndefined();
    expect(cursorValue(record, 'constructor')).toBeUndefined();
    expect(cursorValue(record, 'meta.toString')).toBeUndefined();
    expect(cursorValue(record, 'meta.tags')).toBeNull();
  });
});

describe('createCursorFilter', () => {
  it('keeps records strictly after the start value', () => {
    const filter = createCursorFilter({ cursorField: 'id', after: 2 });
    const kept = [1, 2, 3, 4].map((id) => ({ id })).filter(filter);
    expect(kept).toEqual([{ id: 3 }, { id: 4 }]);
    expect(filter.stats).toEqual({ kept: 2, notNewer: 2, missing: 0, incomparable: 0 });
  });

  it('compares big integer strings exactly', () => {
    const filter = createCursorFilter({ cursorField: 'id', after: '9007199254740992' });
    expect(filter({ id: '9007199254740993' })).toBe(true);
    expect(filter({ id: '9007199254740992' })).toBe(false);
  });

  it('keeps everything when there is no start value', () => {
    for (const after of [undefined, null]) {
      const filter = createCursorFilter({ cursorField: 'updated_at', after });
      expect([{ updated_at: '2020-01-01' }, {}].filter(filter)).toHaveLength(2);
    }
  });

  it('drops records without the cursor field and warns once', () => {
    const { logger, warn } = spyLogger();
    const filter = createCursorFilter({ cursorField: 'meta.ts', after: 10, logger });
    const kept = [{ meta: { ts: 11 } }, { meta: {} }, { other: 1 }].filter(filter);
    expect(kept).toEqual([{ meta: { ts: 11 } }]);
    expect(filter.stats.missing).toBe(2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[1]).toEqual({ cursor_field: 'meta.ts' });
  });

  it('keeps records whose cursor cannot be compared, with one warning', () => {
    const { logger, warn } = spyLogger();
    const filter = createCursorFilter({ cursorField: 'c', after: 5, logger });
    const records = [{ c: true }, { c: 'soon' }, { c: null }, { c: { at: 1 } }, { c: 4 }];
    expect(records.filter(filter)).toEqual(records.slice(0, 4));
    expect(filter.stats).toEqual({ kept: 4, notNewer: 1, missing: 0, incomparable: 4 });
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('rejects a start value that is not a string or number, and a bad cursor field', () => {
    expect(() => createCursorFilter({ cursorField: 'id', after: { id: 1 } })).toThrow(ConfigError);
    expect(() => createCursorFilter({ cursorField: 'id', after: true })).toThrow(/string or a number/);
    expect(() => createCursorFilter({ cursorField: '', after: 1 })).toThrow(ConfigError);
    expect(() => createCursorFilter({ cursorField: 'a..b', after: 1 })).toThrow(/cursor_field/);
  });
});

describe('createRunningMax', () => {
  it('tracks the greatest cursor in any order', () => {
    const max = createRunningMax({ cursorField: 'updated_at' });
    expect(max.value).toBeUndefined();
    for (const day of ['03', '01', '05', '02']) max.observe({ updated_at: `2024-01-${day}T00:00:00Z` });
    expect(max.value).toBe('2024-01-05T00:00:00Z');
  });

  it('never goes below the initial bookmark', () => {
    const max = createRunningMax({ cursorField: 'id', initial: 100 });
    max.observe({ id: 7 });
    expect(max.value).toBe(100);
    max.observe({ id: '101' });
    expect(max.value).toBe('101');
  });

  it('keeps the first of equal values and ignores missing or unorderable cursors', () => {
    const { logger, warn } = spyLogger();
    const max = createRunningMax({ cursorField: 'ts', logger });
    max.observe({ ts: '2024-01-01T00:00:00Z' });
    max.observe({ ts: '2024-01-01T00:00:00.000Z' });
    max.observe({});
    max.observe({ ts: null });
    max.observe({ ts: 99 });
    max.observe({ ts: true });
    expect(max.value).toBe('2024-01-01T00:00:00Z');
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('rejects an initial value of the wrong shape', () => {
    expect(() => createRunningMax({ cursorField: 'id', initial: [1] })).toThrow(ConfigError);
  });
});
