/**
 * The target of the writes: the table's columns and converters, the key columns, created from the
 * first batch when `create_table` allows, and refused when the key, jsonb column or upsert index
 * the config needs is not there.
 */
import { CONNECTOR, quoteIdent } from '@faucet/common-postgres';
import { type FaucetRecord, type Logger, SinkError } from '@faucet/core';
import type pg from 'pg';
import type { PostgresSinkConfig } from './config.js';
import {
  createTableSql,
  currentSchema,
  findTable,
  hasUniqueIndex,
  isAlreadyExists,
  loadColumns,
  type TableRef,
} from './table.js';
import { type Column, type Converter, converterFor } from './values.js';

export interface Target {
  schema: string;
  qualified: string;
  columns: Map<string, Column>;
  /** Writable column names in table order. */
  order: string[];
  converters: Map<string, Converter>;
  keyColumns: Column[];
}

export interface TargetContext {
  config: PostgresSinkConfig;
  /** The configured table name, parsed. */
  parts: string[];
  server: string;
  logger: Logger;
}

/** The `column_mapping.jsonb` column, when the whole record goes into one. */
export const jsonbColumnOf = (config: PostgresSinkConfig): string | undefined =>
  config.column_mapping === 'auto' ? undefined : config.column_mapping.jsonb;

/** Create the table from `records` (another writer may win the race); the reference to it then. */
async function createTable(
  client: pg.PoolClient,
  { config, parts, logger }: TargetContext,
  records: readonly FaucetRecord[],
): Promise<TableRef | undefined> {
  const jsonbColumn = jsonbColumnOf(config);
  const schema = parts.length === 2 ? (parts[0] as string) : await currentSchema(client);
  const name = parts[parts.length - 1] as string;
  const sql = createTableSql({
    qualified: `${quoteIdent(schema)}.${quoteIdent(name)}`,
    records,
    key: config.key,
    primaryKey: config.write_mode !== 'append',
    ...(jsonbColumn === undefined ? {} : { jsonbColumn }),
  });
  try {
    await client.query(sql);
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
  logger.info('postgres sink: created the target table', { table: config.table });
  return findTable(client, [schema, name]);
}

/** What the config needs of the table and the table does not have. */
async function targetProblems(
  client: pg.PoolClient,
  config: PostgresSinkConfig,
  ref: TableRef,
  byName: Map<string, Column>,
): Promise<string[]> {
  const { key } = config;
  const jsonbColumn = jsonbColumnOf(config);
  const problems: string[] = [];
  for (const k of key) if (!byName.has(k)) problems.push(`key column "${k}" is not a column of it`);
  if (jsonbColumn !== undefined) {
    const column = byName.get(jsonbColumn);
    if (!column) problems.push(`column_mapping.jsonb column "${jsonbColumn}" is not a column of it`);
    else if (column.baseOid !== 3802 && column.baseOid !== 114) {
      problems.push(`column_mapping.jsonb column "${jsonbColumn}" is ${column.typeName}, not jsonb`);
    }
  }
  if (
    problems.length === 0 &&
    config.write_mode === 'upsert' &&
    !(await hasUniqueIndex(client, ref.oid, key))
  ) {
    problems.push(
      `upsert needs a primary key or unique index on exactly (${key.join(', ')}), and there is none ` +
        '(INSERT … ON CONFLICT requires one)',
    );
  }
  return problems;
}

/** The table's columns, creating the table from `records` first when allowed. */
export async function resolveTarget(
  client: pg.PoolClient,
  context: TargetContext,
  records?: readonly FaucetRecord[],
): Promise<Target> {
  const { config, parts, server } = context;
  const display = JSON.stringify(config.table);
  let ref = await findTable(client, parts);
  if (!ref) {
    if (!config.create_table || !records || records.length === 0) {
      throw new SinkError(
        `postgres sink (${server}): table ${display} does not exist; create it or set create_table: true`,
        { connector: CONNECTOR },
      );
    }
    ref = await createTable(client, context, records);
    if (!ref) throw new SinkError(`postgres sink: table ${display} vanished after it was created`);
  }
  const columns = await loadColumns(client, ref.oid);
  const byName = new Map(columns.map((c) => [c.name, c]));
  const problems = await targetProblems(client, config, ref, byName);
  if (problems.length > 0) {
    throw new SinkError(`postgres sink (${server}): table ${display}: ${problems.join('; ')}`, {
      connector: CONNECTOR,
    });
  }
  return {
    schema: ref.schema,
    qualified: `${quoteIdent(ref.schema)}.${quoteIdent(ref.name)}`,
    columns: byName,
    order: columns.map((c) => c.name),
    converters: new Map(columns.map((c) => [c.name, converterFor(c)])),
    keyColumns: config.key.map((k) => byName.get(k) as Column),
  };
}
