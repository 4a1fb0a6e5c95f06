/**
 * A record as the row BigQuery receives, column by column. Values are never passed through a
 * JavaScript number they were not already: an INT64 / NUMERIC / BIGNUMERIC given as a string (how
 * Postgres int8 and numeric travel) is sent as that string, which BigQuery reads exactly.
 *
 * A value that cannot fit its column (text in an INT64, an object in a BOOL, a missing REQUIRED
 * field, a field the table lacks) is a row error found here, before anything is sent: the row goes
 * to the DLQ and the others are written, in load mode too, where one bad row would fail the whole job.
 */
import type { JsonObject, JsonValue } from '@faucet/core';
import type { Column } from './schema.js';

/** Why one row cannot be written, and where in it (`amount`, `address.zip`). */
export class RowValueError extends Error {
  constructor(
    readonly location: string,
    message: string,
  ) {
    super(message);
  }
}

/** insertAll takes JSON columns as JSON text; a load job takes the JSON value itself. */
export type Target = 'insert_all' | 'load';

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const FLOAT_WORDS = new Set(['NaN', 'Infinity', '-Infinity', '+Infinity', 'inf', '-inf']);

const describe = (value: JsonValue): string =>
  Array.isArray(value)
    ? 'an array'
    : value === null
      ? 'null'
      : typeof value === 'object'
        ? 'an object'
        : typeof value;

function fail(location: string, column: Column, value: JsonValue, why?: string): never {
  throw new RowValueError(
    location,
    `${location}: ${why ?? `${describe(value)} cannot be stored in a ${column.type} column`}`,
  );
}

function integer(location: string, column: Column, value: JsonValue): JsonValue {
  if (typeof value === 'number') {
    if (!Number.isInteger(value))
      fail(location, column, value, `${value} is not an integer (column is INT64)`);
    return value;
  }
  if (typeof value === 'string' && INTEGER_TEXT.test(value)) return value;
  return fail(
    location,
    column,
    value,
    typeof value === 'string' ? `"${short(value)}" is not an integer (column is INT64)` : undefined,
  );
}

function decimal(location: string, column: Column, value: JsonValue): JsonValue {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && NUMBER_TEXT.test(value)) return value;
  if (column.type === 'FLOAT64' && typeof value === 'string' && FLOAT_WORDS.has(value)) return value;
  return fail(
    location,
    column,
    value,
    typeof value === 'string' ? `"${short(value)}" is not a number (column is ${column.type})` : undefined,
  );
}

const short = (text: string): string => (text.length > 40 ? `${text.slice(0, 37)}...` : text);

function scalar(location: string, column: Column, value: JsonValue, target: Target): JsonValue {
  switch (column.type) {
    case 'STRING':
      if (typeof value === 'string') return value;
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'INT64':
      return integer(location, column, value);
    case 'NUMERIC':
    case 'BIGNUMERIC':
    case 'FLOAT64':
      return decimal(location, column, value);
    case 'BOOL':
      if (typeof value === 'boolean' || value === 'true' || value === 'false') return value;
      return fail(location, column, value);
    case 'JSON':
      return target === 'insert_all' ? JSON.stringify(value) : value;
    case 'RECORD':
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return fail(location, column, value);
      return convertObject(value, column.fields ?? new Map(), target, `${location}.`);
    default:
      // TIMESTAMP, DATE, TIME, DATETIME, BYTES, GEOGRAPHY, INTERVAL: BigQuery parses the text itself.
      if (typeof value === 'string' || typeof value === 'number') return value;
      return fail(location, column, value);
  }
}

function cell(location: string, column: Column, value: JsonValue, target: Target): JsonValue {
  if (value === null) {
    if (column.required) fail(location, column, value, 'a REQUIRED column cannot be null');
    return null;
  }
  if (!column.repeated) return scalar(location, column, value, target);
  if (!Array.isArray(value))
    return fail(location, column, value, `${describe(value)} in a REPEATED column (expected an array)`);
  return value.map((item, i) => {
    if (item === null) fail(`${location}[${i}]`, column, item, 'a REPEATED column cannot hold null');
    return scalar(`${location}[${i}]`, column, item, target);
  });
}

function convertObject(
  record: { [key: string]: JsonValue },
  columns: ReadonlyMap<string, Column>,
  target: Target,
  prefix: string,
): JsonObject {
  const out: JsonObject = {};
  for (const name in record) {
    const value = record[name];
    if (value === undefined) continue;
    const column = columns.get(name);
    if (!column) {
      throw new RowValueError(`${prefix}${name}`, `${prefix}${name}: no such field in the table`);
    }
    out[name] = cell(`${prefix}${name}`, column, value, target);
  }
  for (const column of columns.values()) {
    if (column.required && (record[column.name] === undefined || record[column.name] === null)) {
      throw new RowValueError(`${prefix}${column.name}`, `${prefix}${column.name}: missing REQUIRED field`);
    }
  }
  return out;
}

/** The row for `target`; throws RowValueError naming the field when the record cannot be one. */
export function convertRecord(
  record: JsonObject,
  columns: ReadonlyMap<string, Column>,
  target: Target,
): JsonObject {
  return convertObject(record, columns, target, '');
}
