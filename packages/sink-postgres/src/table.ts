/**
 * The target table: its name (parsed, quoted), its columns and types from the catalog, whether an
 * upsert key has a unique index, and the `create_table` DDL.
 */
import { isServerError, quoteIdent, quoteQualified } from '@faucet/common-postgres';
import { ConfigError, type FaucetRecord, type JsonValue } from '@faucet/core';
import type pg from 'pg';
import { type Column, inferColumnType } from './values.js';

type Queryable = Pick<pg.ClientBase, 'query'>;

const ALREADY_EXISTS = new Set(['42P07', '23505']);

/** A CREATE that lost a race with another writer creating the same table. */
export const isAlreadyExists = (error: unknown): boolean =>
  isServerError(error) && ALREADY_EXISTS.has(error.code);

export interface TableRef {
  oid: number;
  schema: string;
  name: string;
}

/** The table the config names (a one-part name follows search_path), or undefined if there is none. */
export async function findTable(client: Queryable, parts: readonly string[]): Promise<TableRef | undefined> {
  const qualified = quoteQualified(parts);
  const { rows } = await client.query<TableRef>({
    text:
      'SELECT c.oid::int4 AS oid, n.nspname::text AS schema, c.relname::text AS name FROM pg_class c ' +
      'JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)',
    values: [qualified],
  });
  return rows[0];
}

export async function currentSchema(client: Queryable): Promise<string> {
  const { rows } = await client.query<{ schema: string | null }>('SELECT current_schema()::text AS schema');
  const schema = rows[0]?.schema;
  if (!schema) throw new ConfigError('no schema is selected (search_path is empty); qualify the table name');
  return schema;
}

const COLUMNS_SQL = `
SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type_name,
       bt.oid::int4 AS base_oid, bt.typcategory::text AS category,
       COALESCE(CASE WHEN et.typtype = 'd' THEN et.typbasetype ELSE et.oid END, 0)::int4 AS element_oid,
       COALESCE(eb.typcategory::text, '') AS element_category
  FROM pg_attribute a
  JOIN pg_type t ON t.oid = a.atttypid
  JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
  LEFT JOIN pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
  LEFT JOIN pg_type eb ON eb.oid = CASE WHEN et.typtype = 'd' THEN et.typbasetype ELSE et.oid END
 WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
 ORDER BY a.attnum`;

/** The writable columns of a table (generated columns left out), in table order. */
export async function loadColumns(client: Queryable, oid: number): Promise<Column[]> {
  const { rows } = await client.query<{
    name: string;
    type_name: string;
    base_oid: number;
    category: string;
    element_oid: number;
    element_category: string;
  }>({ text: COLUMNS_SQL, values: [oid] });
  return rows.map((r) => ({
    name: r.name,
    typeName: r.type_name,
    baseOid: r.base_oid,
    category: r.category,
    elementOid: r.element_oid,
    elementCategory: r.element_category,
  }));
}

/** Whether a non-partial unique index (or primary key) covers exactly these columns. */
export async function hasUniqueIndex(
  client: Queryable,
  oid: number,
  columns: readonly string[],
): Promise<boolean> {
  const { rows } = await client.query({
    text: `
SELECT 1 FROM pg_index i
 WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
   AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text) FROM unnest(i.indkey) AS k(attnum)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
     = (SELECT array_agg(c ORDER BY c) FROM unnest($2::text[]) AS c)`,
    values: [oid, columns],
  });
  return rows.length > 0;
}

/**
 * `CREATE TABLE IF NOT EXISTS` from the first batch: one column per field seen (in first-seen order),
 * typed from its values; key columns NOT NULL, and the primary key when upserting or deleting.
 */
export function createTableSql(args: {
  qualified: string;
  records: readonly FaucetRecord[];
  key: readonly string[];
  primaryKey: boolean;
  jsonbColumn?: string;
}): string {
  const fields: string[] = [];
  const seen = new Set<string>();
  const add = (field: string) => {
    if (!seen.has(field)) {
      seen.add(field);
      fields.push(field);
    }
  };
  for (const field of args.key) add(field);
  if (args.jsonbColumn === undefined) for (const record of args.records) Object.keys(record).forEach(add);
  const definitions = fields.map((field) => {
    const values: JsonValue[] = args.records.map((r) => r[field] ?? null);
    const notNull = args.key.includes(field) ? ' NOT NULL' : '';
    return `${quoteIdent(field)} ${inferColumnType(values)}${notNull}`;
  });
  if (args.jsonbColumn !== undefined) definitions.push(`${quoteIdent(args.jsonbColumn)} jsonb NOT NULL`);
  if (args.primaryKey && args.key.length > 0) {
    definitions.push(`PRIMARY KEY (${args.key.map(quoteIdent).join(', ')})`);
  }
  return `CREATE TABLE IF NOT EXISTS ${args.qualified} (${definitions.join(', ')})`;
}
