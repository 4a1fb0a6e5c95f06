/**
 * The records the battery feeds to sources (through `seed`/`create`) and sinks (through the memory
 * source), and the key arithmetic every check uses: records are matched by one key field (`id` by
 * default), compared as text so `1` and `"1"` (an int8 read back as a string) are the same record.
 */
import type { FaucetRecord, JsonValue } from '@faucet/core';

export interface DatasetOptions {
  /** How many records to seed (default 120). */
  count?: number;
  /** Builds record `index` (default: {@link defaultRecord}). Each record must carry a distinct key. */
  record?: (index: number) => FaucetRecord;
  /** The field that identifies a record (default `id`). */
  key?: string;
}

export interface Dataset {
  readonly records: readonly FaucetRecord[];
  readonly key: string;
}

export const DEFAULT_COUNT = 120;
const BASE_TIME = Date.UTC(2024, 0, 1);

/** `{id, name, amount, active, created_at, tags}`: every JSON type, ascending `id` and `created_at`. */
export function defaultRecord(index: number): FaucetRecord {
  return {
    id: index + 1,
    name: `record-${index + 1}`,
    amount: Math.round((index + 1) * 12.5) / 10,
    active: index % 3 !== 0,
    created_at: new Date(BASE_TIME + index * 60_000).toISOString(),
    tags: index % 2 === 0 ? ['even'] : [],
    note: index % 5 === 0 ? null : `note ${index + 1}`,
  };
}

export function makeDataset(options: DatasetOptions = {}): Dataset {
  const count = options.count ?? DEFAULT_COUNT;
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new TypeError(`dataset.count must be a positive integer, got ${String(count)}`);
  }
  const build = options.record ?? defaultRecord;
  const records: FaucetRecord[] = [];
  for (let i = 0; i < count; i++) records.push(build(i));
  const key = options.key ?? 'id';
  const seen = new Set<string>();
  for (const record of records) {
    const k = keyText(record[key]);
    if (k === undefined)
      throw new TypeError(`dataset record has no "${key}" field: ${JSON.stringify(record)}`);
    if (seen.has(k)) throw new TypeError(`dataset records must have distinct "${key}" values; ${k} repeats`);
    seen.add(k);
  }
  return { records, key };
}

/** A key value as comparable text, or undefined when the record has none. */
export function keyText(value: JsonValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function keysOf(records: readonly FaucetRecord[], key: string): string[] {
  return records.map((record) => keyText(record[key]) ?? '<no key>');
}

export function countKeys(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

/** What `actual` lacks of `expected`, what it has beyond it, and how many extra copies it holds. */
export function compareKeys(
  expected: readonly string[],
  actual: readonly string[],
): { missing: string[]; unexpected: string[]; duplicates: number; duplicated: string[] } {
  const want = new Set(expected);
  const counts = countKeys(actual);
  const missing = expected.filter((k) => !counts.has(k));
  const unexpected = [...counts.keys()].filter((k) => !want.has(k));
  let duplicates = 0;
  const duplicated: string[] = [];
  for (const [k, n] of counts) {
    if (n > 1) {
      duplicates += n - 1;
      duplicated.push(k);
    }
  }
  return { missing, unexpected, duplicates, duplicated };
}

/** `3 records (id 4, 5, 6)`, at most a few keys listed. */
export function listKeys(keys: readonly string[], key: string, max = 6): string {
  const shown = keys.slice(0, max).join(', ');
  const more = keys.length > max ? `, … ${keys.length - max} more` : '';
  return `${keys.length} record${keys.length === 1 ? '' : 's'} (${key} ${shown}${more})`;
}
