/** What the source asks the server about its slot, publication and tables (on a normal connection). */
import { parseQualifiedName, quoteIdent, quoteQualified } from '@faucet/common-postgres';
import type pg from 'pg';

export interface SlotInfo {
  plugin: string | null;
  slotType: string;
  database: string | null;
  active: boolean;
  activePid: number | null;
  confirmedFlushLsn: string | null;
  restartLsn: string | null;
  /** reserved | extended | unreserved | lost (PostgreSQL 13+). */
  walStatus: string | null;
  temporary: boolean;
}

export async function slotInfo(client: pg.Client, slot: string): Promise<SlotInfo | undefined> {
  const { rows } = await client.query<{
    plugin: string | null;
    slot_type: string;
    database: string | null;
    active: boolean;
    active_pid: number | null;
    confirmed_flush_lsn: string | null;
    restart_lsn: string | null;
    wal_status: string | null;
    temporary: boolean;
  }>({
    text:
      'SELECT plugin, slot_type, database, active, active_pid, confirmed_flush_lsn::text, restart_lsn::text, ' +
      'wal_status, temporary FROM pg_replication_slots WHERE slot_name = $1',
    values: [slot],
  });
  const row = rows[0];
  if (!row) return undefined;
  return {
    plugin: row.plugin,
    slotType: row.slot_type,
    database: row.database,
    active: row.active,
    activePid: row.active_pid,
    confirmedFlushLsn: row.confirmed_flush_lsn,
    restartLsn: row.restart_lsn,
    walStatus: row.wal_status,
    temporary: row.temporary,
  };
}

/** Bytes of WAL the slot holds back: from its confirmed position to the server's current one. */
export async function slotLagBytes(client: pg.Client, slot: string): Promise<number | undefined> {
  const { rows } = await client.query<{ lag: number | null }>({
    text:
      'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 AS lag ' +
      'FROM pg_replication_slots WHERE slot_name = $1',
    values: [slot],
  });
  const lag = rows[0]?.lag;
  return lag === null || lag === undefined ? undefined : Number(lag);
}

export interface PublishedTable {
  schema: string;
  table: string;
  /** `schema.table`, as written in bookmarks and logs. */
  name: string;
}

export async function publicationExists(client: pg.Client, publication: string): Promise<boolean> {
  const { rows } = await client.query({
    text: 'SELECT 1 FROM pg_publication WHERE pubname = $1',
    values: [publication],
  });
  return rows.length > 0;
}

export async function createPublication(
  client: pg.Client,
  publication: string,
  tables: string[],
): Promise<void> {
  const list = tables
    .map((t, i) => quoteQualified(parseQualifiedName(t, `create_publication[${i}]`)))
    .join(', ');
  await client.query(`CREATE PUBLICATION ${quoteIdent(publication)} FOR TABLE ${list}`);
}

export async function publishedTables(client: pg.Client, publication: string): Promise<PublishedTable[]> {
  const { rows } = await client.query<{ schemaname: string; tablename: string }>({
    text: 'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2',
    values: [publication],
  });
  return rows.map((r) => ({
    schema: r.schemaname,
    table: r.tablename,
    name: `${r.schemaname}.${r.tablename}`,
  }));
}

/**
 * The columns that identify a row of a table: its primary key, else its replica identity index; empty
 * when it has neither. `identity` is the table's REPLICA IDENTITY (d, n, f, i).
 */
export async function tableKey(
  client: pg.Client,
  table: PublishedTable,
): Promise<{ columns: string[]; identity: string }> {
  const { rows } = await client.query<{ identity: string; columns: string[] | null }>({
    text: `
      SELECT c.relreplident::text AS identity,
        (SELECT array_agg(a.attname::text ORDER BY k.ord)
           FROM pg_index i
           CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
          WHERE i.indrelid = c.oid
            AND i.indexrelid = (SELECT i2.indexrelid FROM pg_index i2 WHERE i2.indrelid = c.oid
                                  AND (i2.indisprimary OR i2.indisreplident)
                                ORDER BY i2.indisprimary DESC LIMIT 1)) AS columns
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    values: [table.schema, table.table],
  });
  const row = rows[0];
  return { columns: row?.columns ?? [], identity: row?.identity ?? 'd' };
}
