/**
 * The initial snapshot: every published table read in one REPEATABLE READ transaction, in keyset
 * order, one page per FETCH. With the snapshot the slot exported when it was created, the rows are
 * exactly the database at the slot's consistent point, so streaming from that point afterwards
 * neither misses nor repeats a change. A snapshot interrupted by a crash resumes at its table and
 * key under a new snapshot (the exported one died with its connection): then a row changed since
 * the consistent point may come twice (as a snapshot row and as a change), never not at all.
 */
import { quoteIdent } from '@faucet/common-postgres';
import type { FaucetRecord, JsonValue, Logger, Page } from '@faucet/core';
import type pg from 'pg';
import type { SnapshotBookmark } from './bookmark.js';
import { type PublishedTable, tableKey } from './catalog.js';
import { changeRecord } from './records.js';

export const SESSION_SETUP =
  "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; " +
  "SET LOCAL IntervalStyle = 'iso_8601'; SET LOCAL bytea_output = 'hex'; SET LOCAL extra_float_digits = 3";

const CURSOR = 'faucet_cdc_snapshot';

export interface SnapshotOptions {
  client: pg.Client;
  tables: PublishedTable[];
  /** Where to start: the stored snapshot bookmark, or a fresh one (nothing done yet). */
  from: SnapshotBookmark;
  /** The name of the slot's exported snapshot, when this run created the slot. */
  exportedSnapshot?: string;
  /** Called once the exported snapshot is imported (its exporting connection may then close). */
  onImported?: () => Promise<void>;
  pageSize: number;
  onFetch?: (rows: number) => void;
  types: { getTypeParser: (oid: number) => (text: string) => JsonValue };
  logger: Logger;
  signal: AbortSignal;
}

/** Pages of `op: read` records; each page's bookmark says which tables are done and the last key read. */
export async function* snapshotPages(options: SnapshotOptions): AsyncGenerator<Page> {
  const { client, from, pageSize, logger } = options;
  const done = new Set(from.done);
  const todo = options.tables.filter((t) => !done.has(t.name));
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  let open = true;
  try {
    if (options.exportedSnapshot !== undefined) {
      await client.query(`SET TRANSACTION SNAPSHOT '${options.exportedSnapshot.replace(/'/g, "''")}'`);
    }
    await options.onImported?.();
    await client.query(SESSION_SETUP);
    for (const table of todo) {
      const { columns: keyColumns } = await tableKey(client, table);
      const resumeAfter = from.table === table.name && Array.isArray(from.after) ? from.after : undefined;
      const qualified = `${quoteIdent(table.schema)}.${quoteIdent(table.table)}`;
      const keyList = keyColumns.map(quoteIdent).join(', ');
      const where =
        resumeAfter && keyColumns.length > 0
          ? ` WHERE (${keyList}) > (${keyColumns.map((_, i) => `$${i + 1}`).join(', ')})`
          : '';
      const order = keyColumns.length > 0 ? ` ORDER BY ${keyList}` : '';
      logger.info('snapshot: reading a table', {
        table: table.name,
        ...(resumeAfter ? { resuming_after: resumeAfter } : {}),
        ...(keyColumns.length === 0
          ? { note: 'no primary key: checkpointed only at the end of the table' }
          : {}),
      });
      await client.query({
        text: `DECLARE ${CURSOR} NO SCROLL CURSOR FOR SELECT * FROM ${qualified}${where}${order}`,
        values: where ? (resumeAfter as JsonValue[]) : [],
      });
      let rows = 0;
      for (;;) {
        if (options.signal.aborted) return;
        const result = await client.query<Record<string, JsonValue>>({
          text: `FETCH ${pageSize} FROM ${CURSOR}`,
          types: options.types,
        });
        options.onFetch?.(result.rows.length);
        const last = result.rows.length < pageSize;
        const records: FaucetRecord[] = result.rows.map((row) => {
          const after = { ...row };
          const key =
            keyColumns.length > 0 ? Object.fromEntries(keyColumns.map((c) => [c, after[c] ?? null])) : null;
          return changeRecord({
            op: 'read',
            schema: table.schema,
            table: table.table,
            lsn: from.lsn,
            commitTs: null,
            key,
            before: null,
            after,
          });
        });
        rows += records.length;
        const lastRow = result.rows[result.rows.length - 1];
        if (last) {
          done.add(table.name);
          yield { records, bookmark: { ...from, done: [...done], table: null, after: null } };
          break;
        }
        yield keyColumns.length > 0 && lastRow
          ? {
              records,
              bookmark: {
                ...from,
                done: [...done],
                table: table.name,
                after: keyColumns.map((c) => lastRow[c] ?? null),
              },
            }
          : { records };
      }
      await client.query(`CLOSE ${CURSOR}`);
      logger.info('snapshot: table done', { table: table.name, rows });
    }
    await client.query('COMMIT');
    open = false;
  } finally {
    if (open) await client.query('ROLLBACK').catch(() => {});
  }
}
