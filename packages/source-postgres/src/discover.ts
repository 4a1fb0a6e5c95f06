/**
 * discover(): every table, view and materialized view outside the system schemas, with its columns
 * (as the JSON Schema of what this source emits), primary key and likely cursor columns.
 */

import { type ArrayType, jsonSchemaFor, Oid } from '@faucet/common-postgres';
import type { DiscoveredStream, JsonObject } from '@faucet/core';
import type { PostgresPoolClient } from './client.js';

const COLUMNS_SQL = `
SELECT n.nspname AS schema, c.relname AS name, a.attname AS column, a.atttypid::int4 AS type_oid,
       format_type(a.atttypid, a.atttypmod) AS type_name, a.attnotnull AS not_null,
       (SELECT array_agg(pa.attname::text ORDER BY k.ord)
          FROM pg_index i
          CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute pa ON pa.attrelid = i.indrelid AND pa.attnum = k.attnum
         WHERE i.indrelid = c.oid AND i.indisprimary) AS primary_key
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
   AND has_table_privilege(c.oid, 'SELECT')
 ORDER BY n.nspname, c.relname, a.attnum`;

interface ColumnRow {
  schema: string;
  name: string;
  column: string;
  type_oid: number;
  type_name: string;
  not_null: boolean;
  primary_key: string[] | null;
}

const CURSOR_TYPES = new Set<number>([Oid.timestamptz, Oid.timestamp, Oid.date]);

export async function describeTables(
  client: PostgresPoolClient,
  arrays: ReadonlyMap<number, ArrayType>,
): Promise<DiscoveredStream[]> {
  const { rows } = await client.query({ text: COLUMNS_SQL });
  const streams = new Map<
    string,
    { properties: JsonObject; required: string[]; row: ColumnRow; cursors: string[] }
  >();
  for (const row of rows as ColumnRow[]) {
    const name = `${row.schema}.${row.name}`;
    let stream = streams.get(name);
    if (!stream) {
      stream = { properties: {}, required: [], row, cursors: [] };
      streams.set(name, stream);
    }
    const schema = jsonSchemaFor(row.type_oid, row.type_name, arrays);
    if (!row.not_null) {
      const type = schema.type;
      if (typeof type === 'string') schema.type = [type, 'null'];
      else if (Array.isArray(type)) schema.type = [...type, 'null'];
    }
    stream.properties[row.column] = schema;
    stream.required.push(row.column);
    if (CURSOR_TYPES.has(row.type_oid)) stream.cursors.push(row.column);
  }
  return [...streams.entries()].map(([name, s]) => ({
    name,
    schema: { type: 'object', properties: s.properties, required: s.required },
    ...(s.row.primary_key ? { primaryKeys: s.row.primary_key } : {}),
    ...(s.cursors.length > 0 ? { cursorFields: s.cursors } : {}),
  }));
}
