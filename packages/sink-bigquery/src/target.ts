/**
 * The target table as the sink knows it: its schema read once and cached, the table created from the
 * first page (or the explicit schema) when `create_table` allows, and new fields added as columns
 * when `schema_evolution: add_columns` asks for it.
 */
import { type FaucetRecord, SinkError } from '@faucet/core';
import type { SinkContext } from './context.js';
import { CONNECTOR } from './errors.js';
import type { ConvertOptions } from './rows.js';
import { type Column, inferFields, type TableField, toColumns } from './schema.js';
import { addColumns, createTable, fetchTable } from './table.js';
import type { Target as ValueTarget } from './values.js';

export interface TargetTable {
  fields: TableField[];
  columns: Map<string, Column>;
  /** When the table was created (ms): jobs older than this wrote into an earlier table of the name. */
  createdAt: number;
}

export interface TargetManager {
  /**
   * The schema the records will be written with: read (or created from the records), then widened
   * for their new fields. Undefined when the table does not exist yet and there is nothing to infer from.
   */
  prepare(records: readonly FaucetRecord[]): Promise<TargetTable | undefined>;
  /** Whether the table exists (read from BigQuery unless known). */
  exists(): Promise<boolean>;
  /** The table when it exists (read from BigQuery unless known). */
  current(): Promise<TargetTable | undefined>;
  convertOptions(table: TargetTable, target: ValueTarget): ConvertOptions;
}

export function createTargetManager(ctx: SinkContext): TargetManager {
  const { config, ref, display, logger } = ctx;
  const inference = { nestedAs: config.nested_as, numericStrings: config.infer_numeric_strings };
  let known: TargetTable | undefined;

  const remember = (fields: TableField[], createdAt = known?.createdAt ?? 0): TargetTable => {
    known = { fields, columns: toColumns(fields), createdAt };
    return known;
  };

  const missingTable = () =>
    new SinkError(`bigquery sink: table ${display} does not exist; create it or set create_table: true`, {
      connector: CONNECTOR,
    });

  function checkKey(fields: readonly TableField[]): void {
    const missing = config.key.filter((k) => !fields.some((f) => f.name === k));
    if (missing.length > 0) {
      throw new SinkError(
        `bigquery sink: table ${display} has no column ${missing.join(', ')} (named in key)`,
        {
          connector: CONNECTOR,
        },
      );
    }
  }

  async function ensure(records: readonly FaucetRecord[]): Promise<TargetTable | undefined> {
    if (known) return known;
    let info = await fetchTable(ctx, ref);
    if (!info) {
      if (!config.create_table) throw missingTable();
      if (!config.schema && records.length === 0) return undefined;
      const schema = (config.schema as TableField[] | undefined) ?? inferFields(records, inference);
      info = await createTable(ctx, ref, schema, {
        partitioning: config.partitioning,
        clustering: config.clustering,
      });
      logger.info('bigquery sink: created the target table', { table: display, columns: info.fields.length });
    }
    checkKey(info.fields);
    return remember(info.fields, info.createdAt);
  }

  async function evolve(table: TargetTable, records: readonly FaucetRecord[]): Promise<TargetTable> {
    if (config.schema_evolution !== 'add_columns') return table;
    const fresh = new Set<string>();
    for (const record of records) {
      for (const name in record) if (!table.columns.has(name) && record[name] !== undefined) fresh.add(name);
    }
    if (fresh.size === 0) return table;
    const added = inferFields(records, inference, fresh);
    logger.info('bigquery sink: adding columns', { table: display, columns: added.map((f) => f.name) });
    return remember(await addColumns(ctx, ref, table.fields, added));
  }

  return {
    async prepare(records) {
      const table = await ensure(records);
      return table ? evolve(table, records) : undefined;
    },
    async exists() {
      if (known || (await this.current())) return true;
      if (!config.create_table) throw missingTable();
      return false;
    },
    async current() {
      if (known) return known;
      const info = await fetchTable(ctx, ref);
      if (!info) return undefined;
      checkKey(info.fields);
      return remember(info.fields, info.createdAt);
    },
    convertOptions: (table, target) => ({
      columns: table.columns,
      target,
      display,
      strict: config.schema_evolution === 'fail',
    }),
  };
}
