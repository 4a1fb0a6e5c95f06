/**
 * Parquet columns for JSON records, and Parquet values back to JSON.
 *
 * Writing: a file's columns come from the first batch written to it (keys in first-seen order, or
 * the `columns` option); every column is OPTIONAL (null or missing = null). Types:
 *   all booleans -> BOOLEAN; all integers within ±2^53 -> INT64; other numbers -> DOUBLE;
 *   strings -> STRING (UTF8); objects, arrays or a mix of kinds -> JSON (UTF-8 JSON text);
 *   only nulls -> STRING.
 * A later value that does not fit its column (a fraction in an INT64 column, a string in a BOOLEAN
 * one) fails that row, naming the column; the other rows are written.
 *
 * Reading: INT64 within ±2^53 becomes a number, beyond it a decimal string (as faucet carries
 * Postgres int8); dates and timestamps become ISO-8601 strings; bytes become base64; NaN and
 * ±Infinity become null (JSON has none of them).
 */
import type { FaucetRecord, JsonValue } from '@faucet/core';

export type ParquetColumnType = 'BOOLEAN' | 'INT64' | 'DOUBLE' | 'STRING' | 'JSON';

export interface ParquetColumn {
  name: string;
  type: ParquetColumnType;
}

type Kind = 'boolean' | 'integer' | 'number' | 'string' | 'json';

function kindOf(value: JsonValue): Kind {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'integer' : 'number';
  if (typeof value === 'string') return 'string';
  return 'json';
}

function typeFor(kinds: Set<Kind>): ParquetColumnType {
  if (kinds.size === 0) return 'STRING';
  if (kinds.size === 1) {
    const [only] = kinds;
    if (only === 'boolean') return 'BOOLEAN';
    if (only === 'integer') return 'INT64';
    if (only === 'number') return 'DOUBLE';
    if (only === 'string') return 'STRING';
    return 'JSON';
  }
  if (kinds.size === 2 && kinds.has('integer') && kinds.has('number')) return 'DOUBLE';
  return 'JSON';
}

/** Columns for a file whose first batch is `records`. */
export function inferParquetColumns(records: readonly FaucetRecord[]): ParquetColumn[] {
  const kinds = new Map<string, Set<Kind>>();
  for (const record of records) {
    for (const key of Object.keys(record)) {
      let set = kinds.get(key);
      if (!set) {
        set = new Set();
        kinds.set(key, set);
      }
      const value = record[key];
      if (value !== null && value !== undefined) set.add(kindOf(value));
    }
  }
  return [...kinds].map(([name, set]) => ({ name, type: typeFor(set) }));
}

/** The value to hand the writer for `value` in a column of `type`, or an error message. */
export function parquetCell(type: ParquetColumnType, value: JsonValue | undefined): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'BOOLEAN':
      if (typeof value === 'boolean') return value;
      break;
    case 'INT64':
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      if (typeof value === 'string' && /^-?\d{1,19}$/.test(value)) {
        const big = BigInt(value);
        if (big >= -(2n ** 63n) && big < 2n ** 63n) return big;
      }
      break;
    case 'DOUBLE':
      if (typeof value === 'number') return value;
      break;
    case 'STRING':
      if (typeof value === 'string') return value;
      break;
    case 'JSON':
      return value;
  }
  return WRONG_TYPE;
}

/** Returned by `parquetCell` for a value that does not fit its column. */
export const WRONG_TYPE: unique symbol = Symbol('wrong parquet type');

export function describeValue(value: JsonValue): string {
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  if (typeof value === 'number' && !Number.isSafeInteger(value)) return `the number ${value}`;
  return `${typeof value} ${JSON.stringify(value).slice(0, 40)}`;
}

/** A value read by hyparquet as JSON. */
export function jsonFromParquet(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(value)
        : value.toString();
    case 'object':
      break;
    default:
      return String(value);
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.length).toString('base64');
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<unknown>, jsonFromParquet);
  if (Array.isArray(value)) return value.map(jsonFromParquet);
  const out: { [key: string]: JsonValue } = {};
  for (const [key, inner] of Object.entries(value as object)) out[key] = jsonFromParquet(inner);
  return out;
}
