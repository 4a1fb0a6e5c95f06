/**
 * From records to rows: converted to the table's columns (bad ones become per-row failures), keyed
 * (last row per key wins within a page; a missing key is a row error), and given insertIds.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { CommitScope, FaucetRecord, JsonObject, JsonValue, RowFailure } from '@faucet/core';
import { SinkError } from '@faucet/core';
import { CONNECTOR } from './errors.js';
import type { Column } from './schema.js';
import { convertRecord, RowValueError, type Target } from './values.js';

/** A converted row and where it came from. */
export interface ConvertedRow {
  index: number;
  json: JsonObject;
  /** `JSON.stringify(json)`. */
  text: string;
}

export const rowError = (message: string): SinkError =>
  new SinkError(message, { code: 'SINK_ROW_REJECTED', connector: CONNECTOR });

export interface ConvertOptions {
  columns: ReadonlyMap<string, Column>;
  target: Target;
  /** `p.d.t`, for messages. */
  display: string;
  /** Whether unknown fields are refused because of `schema_evolution: fail`. */
  strict: boolean;
  /** Extra columns to set on every row (the staging table's delete marker). */
  extra?: (record: FaucetRecord, index: number) => JsonObject;
}

/** Convert records; rows that cannot be converted are reported in `failures`. */
export function convertRows(
  records: readonly { index: number; record: FaucetRecord }[],
  options: ConvertOptions,
  failures: RowFailure[],
): ConvertedRow[] {
  const rows: ConvertedRow[] = [];
  for (const { index, record } of records) {
    try {
      const json = convertRecord(record, options.columns, options.target);
      if (options.extra) Object.assign(json, options.extra(record, index));
      rows.push({ index, json, text: JSON.stringify(json) });
    } catch (error) {
      if (!(error instanceof RowValueError)) throw error;
      const hint =
        options.strict && error.message.endsWith('no such field in the table')
          ? ' (schema_evolution: fail; set schema_evolution: add_columns to add new fields as columns)'
          : '';
      failures.push({
        index,
        error: rowError(
          `bigquery sink: the row cannot be written to ${options.display}: ${error.message}${hint}`,
        ),
      });
    }
  }
  return rows;
}

/** Key values compare as text, so an int8 key sent once as `7` and once as `"7"` is one row. */
export const keyText = (values: readonly JsonValue[]): string =>
  JSON.stringify(values.map((v) => (typeof v === 'number' ? String(v) : v)));

/**
 * The last record of each key, in the order of their last appearance; records without a full key
 * are failures.
 */
export function lastPerKey(
  records: readonly FaucetRecord[],
  key: readonly string[],
  failures: RowFailure[],
): { index: number; record: FaucetRecord }[] {
  const lastIndex = new Map<string, number>();
  for (let index = 0; index < records.length; index++) {
    const values = key.map((k) => (records[index] as FaucetRecord)[k]);
    const gap = values.findIndex((v) => v === undefined || v === null);
    if (gap >= 0) {
      failures.push({ index, error: rowError(`bigquery sink: key field "${key[gap]}" is missing or null`) });
      continue;
    }
    // Moved to the end: the map iterates keys in the order of their last record.
    const id = keyText(values as JsonValue[]);
    lastIndex.delete(id);
    lastIndex.set(id, index);
  }
  return [...lastIndex.values()].map((index) => ({ index, record: records[index] as FaucetRecord }));
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 40);

/**
 * The insertId of each row. Under effectively-once: from the commit token, the row's position and
 * its bytes, so a replayed page repeats its ids exactly (and a changed one does not). Otherwise from
 * the key fields when there are some, else random (still one id per row for all its retries).
 */
export function insertIdFor(
  row: ConvertedRow,
  record: FaucetRecord,
  options: { key: readonly string[]; commit?: CommitScope | undefined },
): string {
  if (options.commit)
    return sha(`${options.commit.scope}\u0000${options.commit.token}\u0000${row.index}\u0000${row.text}`);
  if (options.key.length > 0) return sha(`key\u0000${keyText(options.key.map((k) => record[k] ?? null))}`);
  return randomUUID();
}
