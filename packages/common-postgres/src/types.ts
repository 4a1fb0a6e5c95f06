/**
 * Postgres text output → JSON values. The parsers are handed to each query (`types`), never set on
 * the global `pg.types`, so an application sharing the `pg` module keeps its own parsing. Reads run
 * with `TimeZone=UTC`, `DateStyle=ISO`, `IntervalStyle=iso_8601`, `bytea_output=hex` and
 * `extra_float_digits=3` (floats round-trip exactly) set locally in their transaction, so the text
 * forms below are the only ones these parsers meet.
 */
import type { JsonObject, JsonValue } from '@faucet/core';

export type ValueParser = (text: string) => JsonValue;

/** An array type: its element type and delimiter (`,` for all but `box`). */
export interface ArrayType {
  element: number;
  delimiter: string;
}

export const Oid = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  timetz: 1266,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

const identity: ValueParser = (text) => text;

const TIMESTAMP = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)$/;
const TIMESTAMPTZ = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)\+00$/;

/**
 * `2024-01-01 10:00:00.5+00` → `2024-01-01T10:00:00.5Z`; infinity and BC dates stay as Postgres wrote
 * them.
 */
export function parseTimestamptz(text: string): string {
  const m = TIMESTAMPTZ.exec(text);
  return m ? `${m[1]}T${m[2]}Z` : text;
}

/** `2024-01-01 10:00:00.5` → `2024-01-01T10:00:00.5` (wall-clock time, no offset added). */
export function parseTimestamp(text: string): string {
  const m = TIMESTAMP.exec(text);
  return m ? `${m[1]}T${m[2]}` : text;
}

/** Numbers, except NaN and ±Infinity, which JSON cannot hold: those stay strings. */
export function parseFloatValue(text: string): JsonValue {
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

/** bytea in hex output (`\x0102ff`) → base64. */
export function parseBytea(text: string): string {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex').toString('base64');
  return Buffer.from(text, 'latin1').toString('base64');
}

const SCALARS = new Map<number, ValueParser>([
  [Oid.bool, (t) => t === 't' || t === 'true'],
  [Oid.int2, Number],
  [Oid.int4, Number],
  [Oid.oid, Number],
  [Oid.int8, identity],
  [Oid.numeric, identity],
  [Oid.float4, parseFloatValue],
  [Oid.float8, parseFloatValue],
  [Oid.json, (t) => JSON.parse(t) as JsonValue],
  [Oid.jsonb, (t) => JSON.parse(t) as JsonValue],
  [Oid.bytea, parseBytea],
  [Oid.date, identity],
  [Oid.timestamp, parseTimestamp],
  [Oid.timestamptz, parseTimestamptz],
]);

/**
 * Parse a Postgres array literal (`{1,2,NULL}`, `{{"a b","c\"d"},{e,f}}`, `[0:1]={1,2}`) into nested
 * JSON arrays, each element through `element`.
 */
export function parseArrayLiteral(text: string, delimiter: string, element: ValueParser): JsonValue[] {
  let i = 0;
  if (text.startsWith('[')) i = text.indexOf('=') + 1; // explicit bounds: `[0:1]={…}`
  const fail = (): never => {
    throw new TypeError(`malformed array literal at character ${i + 1}`);
  };
  const parse = (): JsonValue[] => {
    if (text[i] !== '{') fail();
    i++;
    const out: JsonValue[] = [];
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      const ch = text[i];
      if (ch === '{') {
        out.push(parse());
      } else if (ch === '"') {
        i++;
        let value = '';
        let from = i;
        for (;;) {
          const c = text[i];
          if (c === undefined) fail();
          if (c === '"') break;
          if (c === '\\') {
            value += text.slice(from, i);
            i++;
            from = i;
          }
          i++;
        }
        value += text.slice(from, i);
        i++;
        out.push(element(value));
      } else {
        const from = i;
        while (i < text.length && text[i] !== delimiter && text[i] !== '}') i++;
        const raw = text.slice(from, i).trim();
        out.push(raw === 'NULL' ? null : element(raw));
      }
      if (text[i] === delimiter) i++;
      else if (text[i] === '}') {
        i++;
        return out;
      } else fail();
    }
  };
  return parse();
}

/** The parser for one type oid; arrays parse their elements with their element type's parser. */
export function parserFor(oid: number, arrays: ReadonlyMap<number, ArrayType>): ValueParser {
  const scalar = SCALARS.get(oid);
  if (scalar) return scalar;
  const array = arrays.get(oid);
  if (array) {
    const element = parserFor(array.element, arrays);
    return (text) => parseArrayLiteral(text, array.delimiter, element);
  }
  return identity;
}

/** The `types` option of a pg query: every column through {@link parserFor}. */
export function queryTypes(arrays: ReadonlyMap<number, ArrayType>): {
  getTypeParser: (oid: number, format?: string) => ValueParser;
} {
  const cache = new Map<number, ValueParser>();
  return {
    getTypeParser(oid: number) {
      let parser = cache.get(oid);
      if (!parser) {
        parser = parserFor(oid, arrays);
        cache.set(oid, parser);
      }
      return parser;
    },
  };
}

const ARRAY_TYPES_SQL =
  'SELECT oid::int4 AS oid, typelem::int4 AS element, typdelim::text AS delimiter FROM pg_type ' +
  "WHERE typcategory = 'A' AND typelem <> 0";

/** Every array type of the database (built-in and user-defined), for {@link parserFor}. */
export async function loadArrayTypes(client: {
  query(config: { text: string }): Promise<{ rows: unknown[] }>;
}): Promise<Map<number, ArrayType>> {
  const { rows } = await client.query({ text: ARRAY_TYPES_SQL });
  const out = new Map<number, ArrayType>();
  for (const row of rows as { oid: number; element: number; delimiter: string }[]) {
    out.set(row.oid, { element: row.element, delimiter: row.delimiter });
  }
  return out;
}

/** JSON Schema of a column as this source emits it (for discover()). */
export function jsonSchemaFor(
  oid: number,
  typeName: string,
  arrays: ReadonlyMap<number, ArrayType>,
  elementName?: string,
): JsonObject {
  const meta: JsonObject = typeName === '' ? {} : { 'x-postgres-type': typeName };
  switch (oid) {
    case Oid.bool:
      return { type: 'boolean', ...meta };
    case Oid.int2:
    case Oid.int4:
    case Oid.oid:
      return { type: 'integer', ...meta };
    case Oid.int8:
      return { type: 'string', pattern: '^-?[0-9]+$', ...meta };
    case Oid.numeric:
      return { type: 'string', ...meta };
    case Oid.float4:
    case Oid.float8:
      return { type: ['number', 'string'], ...meta };
    case Oid.json:
    case Oid.jsonb:
      return { ...meta };
    case Oid.bytea:
      return { type: 'string', contentEncoding: 'base64', ...meta };
    case Oid.timestamptz:
    case Oid.timestamp:
      return { type: 'string', format: 'date-time', ...meta };
    case Oid.date:
      return { type: 'string', format: 'date', ...meta };
    case Oid.uuid:
      return { type: 'string', format: 'uuid', ...meta };
  }
  const array = arrays.get(oid);
  if (array) {
    return { type: 'array', items: jsonSchemaFor(array.element, elementName ?? '', arrays), ...meta };
  }
  return { type: 'string', ...meta };
}
