/**
 * JSON values → the text Postgres parses for a column (bind parameters and COPY rows alike): strings
 * pass through (int8/numeric strings, ISO timestamps), objects and arrays become JSON for json/jsonb
 * columns and array literals for array columns, base64 strings become bytea.
 */
import type { JsonValue } from '@faucet/core';

/** What the sink knows of one column (domains resolved to their base type). */
export interface Column {
  name: string;
  /** `format_type` of the column, safe to use as a cast (`timestamp with time zone`, `"Mood"[]`). */
  typeName: string;
  baseOid: number;
  /** pg_type.typcategory of the base type: A array, B boolean, N numeric, S string, U user… */
  category: string;
  /** For arrays: the element's base type oid and category. */
  elementOid: number;
  elementCategory: string;
}

/** A value that cannot go into its column; the row is reported failed before anything is sent. */
export class ValueError extends Error {}

const JSON_OIDS = new Set([114, 3802]);
const BYTEA = 17;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export type Converter = (value: JsonValue) => string | null;

function plainText(value: JsonValue): string | null {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return JSON.stringify(value);
}

function jsonText(value: JsonValue): string | null {
  return value === null ? null : JSON.stringify(value);
}

function byteaText(value: JsonValue): string | null {
  if (value === null) return null;
  if (typeof value !== 'string')
    throw new ValueError(`expected a base64 string for bytea, got ${typeof value}`);
  if (value.startsWith('\\x')) return value;
  const compact = value.replace(/\s+/g, '');
  if (compact.length % 4 === 1 || !BASE64.test(compact)) {
    throw new ValueError('expected a base64 string for bytea');
  }
  return `\\x${Buffer.from(compact, 'base64').toString('hex')}`;
}

function scalarConverter(oid: number): Converter {
  if (JSON_OIDS.has(oid)) return jsonText;
  if (oid === BYTEA) return byteaText;
  return plainText;
}

function quoteArrayElement(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A Postgres array literal: `{"a","b c",NULL}`, nested arrays for more dimensions. */
export function arrayLiteral(
  items: readonly JsonValue[],
  element: Converter,
  elementIsJson: boolean,
): string {
  const parts = items.map((item) => {
    if (Array.isArray(item) && !elementIsJson) return arrayLiteral(item, element, elementIsJson);
    const text = element(item);
    return text === null ? 'NULL' : quoteArrayElement(text);
  });
  return `{${parts.join(',')}}`;
}

/** The converter for a column; throws {@link ValueError} for a value it cannot hold. */
export function converterFor(column: Column): Converter {
  if (column.category !== 'A') return scalarConverter(column.baseOid);
  const element = scalarConverter(column.elementOid);
  const elementIsJson = JSON_OIDS.has(column.elementOid);
  return (value) => {
    if (value === null) return null;
    if (typeof value === 'string') return value; // already an array literal
    if (!Array.isArray(value)) {
      throw new ValueError(`expected an array for column "${column.name}" (${column.typeName})`);
    }
    return arrayLiteral(value, element, elementIsJson);
  };
}

const COPY_SPECIAL = /[\\\n\r\t]/;

/** One value in COPY's text format: `\N` for NULL, backslash escapes for the rest. */
export function copyText(value: string | null): string {
  if (value === null) return '\\N';
  if (!COPY_SPECIAL.test(value)) return value;
  return value.replace(/[\\\n\r\t]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t',
  );
}

/** A column type for `create_table`, from the values of the first batch. */
export function inferColumnType(values: readonly JsonValue[]): string {
  const present = values.filter((v) => v !== null);
  if (present.length === 0) return 'text';
  if (present.some((v) => typeof v === 'object')) return 'jsonb';
  if (present.every((v) => typeof v === 'boolean')) return 'boolean';
  if (present.every((v) => typeof v === 'number')) {
    return present.every((v) => Number.isSafeInteger(v)) ? 'bigint' : 'double precision';
  }
  return 'text';
}
