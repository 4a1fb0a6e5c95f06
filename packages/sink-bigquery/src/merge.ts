/**
 * Upsert and delete by key: the page (last row per key wins, deletes marked in `_faucet_delete`) is
 * loaded into a staging table with WRITE_TRUNCATE, then one MERGE applies it to the target. Staging
 * always goes through a load job, whatever `write_method` says: rows streamed with insertAll stay in
 * the streaming buffer for a while, where DML cannot truncate or read them reliably.
 *
 * Cost: every page is one load job plus one MERGE, and a MERGE scans the target (all of it unless
 * the target is partitioned or clustered on the key), so large pages and a clustered key pay off.
 */
import { randomBytes } from 'node:crypto';
import type { CommitScope, FaucetRecord, JsonValue, RowFailure, WriteResult } from '@faucet/core';
import type { SinkContext, TableRef } from './context.js';
import { runJob } from './jobs.js';
import { createLabeler, loadConfiguration } from './load.js';
import { convertRows, lastPerKey } from './rows.js';
import { quoteColumn, quotedTable, type TableField } from './schema.js';
import { sealedStageOf } from './stage.js';
import { createTable, dropTable } from './table.js';
import type { TargetManager, TargetTable } from './target.js';
import { pageJobId, randomJobId } from './tokens.js';

export const DELETE_COLUMN = '_faucet_delete';
/** `,a,b,`: the columns a staged row carries, for the columns some rows of the page lack. */
export const FIELDS_COLUMN = '_faucet_fields';

/** The staging table for a target: one per sink instance, so concurrent writers never share one. */
export function stagingRef(target: TableRef, suffix: string): TableRef {
  return { ...target, tableId: `${target.tableId}_faucet_staging_${suffix}`.slice(0, 1024) };
}

/** The staging table's fields: the target's, plus the delete marker and the carried-fields list. */
export function stagingFields(target: readonly TableField[]): TableField[] {
  return [
    ...target.map((f) => ({ ...f, mode: f.mode === 'REPEATED' ? 'REPEATED' : 'NULLABLE' })),
    { name: DELETE_COLUMN, type: 'BOOL', mode: 'NULLABLE' },
    { name: FIELDS_COLUMN, type: 'STRING', mode: 'NULLABLE' },
  ];
}

/** Non-key columns the upserted records carry, and those some of them lack. */
export function carriedColumns(
  records: readonly FaucetRecord[],
  key: readonly string[],
): { columns: string[]; partial: Set<string> } {
  const counts = new Map<string, number>();
  for (const record of records) {
    for (const name in record) {
      if (record[name] !== undefined && !key.includes(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  const partial = new Set([...counts].filter(([, n]) => n < records.length).map(([name]) => name));
  return { columns: [...counts.keys()], partial };
}

const carriedList = (record: FaucetRecord, partial: ReadonlySet<string>): string =>
  `,${[...partial].filter((c) => record[c] !== undefined).join(',')},`;

const keyOnly = (record: FaucetRecord, key: readonly string[]): FaucetRecord =>
  Object.fromEntries(key.map((k) => [k, record[k] ?? null]));

/**
 * `MERGE target USING staging ON keys`: matched deletes delete, matched rows update the columns the
 * page carries, unmatched non-deletes insert. A column a record does not carry keeps its value on
 * update (like a column no record of the page carries); a field given as null sets NULL.
 */
export function mergeSql(options: {
  target: TableRef;
  staging: TableRef;
  key: readonly string[];
  /** Non-key columns some record of the page carries. */
  columns: readonly string[];
  /** Of those, the ones some upserted record lacks. */
  partial: ReadonlySet<string>;
  upserts: boolean;
}): string {
  const t = quotedTable(options.target.projectId, options.target.datasetId, options.target.tableId);
  const s = quotedTable(options.staging.projectId, options.staging.datasetId, options.staging.tableId);
  const on = options.key.map((k) => `T.${quoteColumn(k)} = S.${quoteColumn(k)}`).join(' AND ');
  const lines = [
    `MERGE ${t} AS T`,
    `USING ${s} AS S`,
    `ON ${on}`,
    `WHEN MATCHED AND S.${DELETE_COLUMN} THEN DELETE`,
  ];
  if (options.upserts) {
    if (options.columns.length > 0) {
      const value = (c: string) =>
        options.partial.has(c)
          ? `IF(STRPOS(S.${FIELDS_COLUMN}, ',${c},') > 0, S.${quoteColumn(c)}, T.${quoteColumn(c)})`
          : `S.${quoteColumn(c)}`;
      const set = options.columns.map((c) => `${quoteColumn(c)} = ${value(c)}`).join(', ');
      lines.push(`WHEN MATCHED AND NOT S.${DELETE_COLUMN} THEN UPDATE SET ${set}`);
    }
    const all = [...options.key, ...options.columns].map(quoteColumn);
    lines.push(
      `WHEN NOT MATCHED AND NOT S.${DELETE_COLUMN} THEN INSERT (${all.join(', ')}) ` +
        `VALUES (${all.map((c) => `S.${c}`).join(', ')})`,
    );
  }
  return lines.join('\n');
}

export interface Merger {
  write(records: FaucetRecord[], commit?: CommitScope): Promise<WriteResult>;
  /** Drop the staging table, if this sink made one. */
  close(): Promise<void>;
}

export function createMerger(ctx: SinkContext, targets: TargetManager): Merger {
  const { config, ref, display, logger } = ctx;
  const key = config.key;
  const labels = createLabeler(ref, logger);
  const staging = stagingRef(ref, randomBytes(4).toString('hex'));
  const deleteValues: JsonValue[] = config.delete_marker?.values ?? [true];
  let stagingReady = false;

  const isDelete = (record: FaucetRecord): boolean => {
    if (config.write_mode === 'delete') return true;
    const marker = config.delete_marker;
    if (!marker || !(marker.field in record)) return false;
    return deleteValues.some((v) => v === record[marker.field]);
  };

  async function ensureStaging(table: TargetTable): Promise<void> {
    if (stagingReady) return;
    // It expires on its own a day later, should this run die before close() drops it.
    await createTable(ctx, staging, stagingFields(table.fields), { expiresAt: Date.now() + 86_400_000 });
    stagingReady = true;
  }

  /** Load the rows into the staging table (replacing what it held); returns the digest of their bytes. */
  async function stage(table: TargetTable, rows: readonly { text: string }[]): Promise<string> {
    await ensureStaging(table);
    const sealed = await sealedStageOf(config.staging_dir, rows);
    try {
      await runJob(ctx, {
        jobId: randomJobId(config.job_id_prefix),
        configuration: { load: loadConfiguration(staging, 'WRITE_TRUNCATE', stagingFields(table.fields)) },
        data: sealed.open,
        what: `load job of ${rows.length} rows into the staging table of ${display}`,
      });
      return sealed.digest;
    } finally {
      await sealed.remove();
    }
  }

  return {
    async write(records, commit) {
      const failures: RowFailure[] = [];
      const entries = lastPerKey(records, key, failures).map((e) => ({ ...e, del: isDelete(e.record) }));
      const upserted = entries.filter((e) => !e.del).map((e) => e.record);
      const table = await targets.prepare(upserted);
      const done = (): WriteResult =>
        failures.length > 0 ? { failed: failures.sort((a, b) => a.index - b.index) } : {};
      if (!table || entries.length === 0) return done();
      const dels = new Set(entries.filter((e) => e.del).map((e) => e.index));
      const { columns, partial } = carriedColumns(upserted, key);
      const rows = convertRows(
        // A delete needs its key only: its other fields are never checked against the table.
        entries.map((e) => ({ index: e.index, record: e.del ? keyOnly(e.record, key) : e.record })),
        {
          ...targets.convertOptions(table, 'load'),
          extra: (record, index) => ({
            [DELETE_COLUMN]: dels.has(index),
            ...(partial.size > 0 && !dels.has(index)
              ? { [FIELDS_COLUMN]: carriedList(record, partial) }
              : {}),
          }),
        },
        failures,
      );
      // An effectively-once page commits whole or not at all.
      if ((commit && failures.length > 0) || rows.length === 0) return done();
      const digest = await stage(table, rows);
      const upserts = rows.some((row) => !dels.has(row.index));
      const idFor = (retry: number) =>
        commit
          ? pageJobId(config.job_id_prefix, ref, commit.scope, commit.token, digest, retry)
          : randomJobId(config.job_id_prefix);
      const query = mergeSql({ target: ref, staging, key, columns, partial, upserts });
      const spec = {
        jobId: idFor(0),
        configuration: {
          query: { query, useLegacySql: false },
          ...(commit ? { labels: labels(commit) } : {}),
        },
        what: `MERGE of ${rows.length} rows into ${display}`,
      };
      await runJob(ctx, spec, commit ? { next: idFor, notBefore: table.createdAt } : undefined);
      return done();
    },
    async close() {
      if (!stagingReady) return;
      stagingReady = false;
      await dropTable(ctx, staging).catch((error: unknown) =>
        logger.warn('bigquery sink: could not drop the staging table (it expires within a day)', {
          table: `${staging.projectId}.${staging.datasetId}.${staging.tableId}`,
          error: error instanceof Error ? error.message : String(error),
        }),
      );
    },
  };
}
