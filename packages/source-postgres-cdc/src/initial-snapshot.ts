/**
 * Where a read starts, and the initial snapshot before streaming: a new permanent slot exports its
 * snapshot (an exact seam); an interrupted snapshot, or an existing slot with no stored position,
 * is read under a new snapshot (a row changed meanwhile may come twice, never not at all).
 */
import { failureOf } from '@faucet/common-postgres';
import type { JsonValue, Page } from '@faucet/core';
import type pg from 'pg';
import type { CdcBookmark, SnapshotBookmark } from './bookmark.js';
import type { PublishedTable, SlotInfo } from './catalog.js';
import { type CdcEnv, CONNECTOR } from './connection.js';
import { formatLsn, parseLsn } from './lsn.js';
import { createSlot } from './slot.js';
import { snapshotPages } from './snapshot.js';

export interface ExportedSnapshot {
  name: string;
  /** The replication connection that created the slot; the snapshot lives while it is open. */
  connection: pg.Client;
}

export interface StartPlan {
  /** The snapshot to read first, if any. */
  snapshotFrom?: SnapshotBookmark;
  exported?: ExportedSnapshot;
  /** The consistent point of a slot this run created. */
  startLsn?: bigint;
}

const freshSnapshot = (slot: string, lsn: bigint, exact: boolean): SnapshotBookmark => ({
  kind: 'snapshot',
  slot,
  lsn: formatLsn(lsn),
  exact,
  done: [],
  table: null,
  after: null,
});

/** No slot yet: create it (exporting its snapshot when a snapshot is to be taken); else resume. */
export async function planStart(
  env: CdcEnv,
  info: SlotInfo | undefined,
  bookmark: CdcBookmark | undefined,
): Promise<StartPlan> {
  const { config, logger, slot } = env;
  if (!info && config.slot_type === 'permanent') {
    if (!config.create_slot_if_missing) {
      throw env.fail(`replication slot "${slot}" does not exist and create_slot_if_missing is false`);
    }
    const created = await createSlot(env, config.snapshot === 'initial');
    const startLsn = parseLsn(created.consistentPoint);
    if (config.snapshot === 'initial' && created.snapshotName) {
      return {
        startLsn,
        exported: { name: created.snapshotName, connection: created.connection },
        snapshotFrom: freshSnapshot(slot, startLsn, true),
      };
    }
    await created.connection.end().catch(() => {});
    return { startLsn };
  }
  if (bookmark?.kind === 'snapshot') {
    logger.warn(
      `${CONNECTOR}: resuming an interrupted snapshot under a new snapshot (the slot's exported one ended ` +
        'with the run): a row changed since the slot was created may come twice, once as a snapshot row ' +
        'and once as a change; none is missed',
      { done: bookmark.done, table: bookmark.table },
    );
    return { snapshotFrom: { ...bookmark, exact: false } };
  }
  if (!bookmark && config.snapshot === 'initial' && info) {
    const point = info.confirmedFlushLsn ?? '0/0';
    logger.warn(
      `${CONNECTOR}: slot "${slot}" already exists and there is no stored position: the snapshot is read ` +
        "under a new snapshot and streaming starts at the slot's position, so a row changed meanwhile may " +
        'come twice (never missed). Let the source create its slot for an exact seam',
      { confirmed_flush_lsn: point },
    );
    return { snapshotFrom: freshSnapshot(slot, parseLsn(point), false) };
  }
  return {};
}

export interface SnapshotReadOptions {
  tables: PublishedTable[];
  from: SnapshotBookmark;
  exported: ExportedSnapshot | undefined;
  pageSize: number;
  onFetch: ((rows: number) => void) | undefined;
  types: { getTypeParser: (oid: number) => (text: string) => JsonValue };
  signal: AbortSignal;
}

/**
 * The snapshot, checkpointed by table and key, then the page whose bookmark is the stream position.
 * Returns false when the read was cancelled before the snapshot was complete.
 */
export async function* readSnapshot(
  env: CdcEnv,
  options: SnapshotReadOptions,
): AsyncGenerator<Page, boolean> {
  const { logger, slot } = env;
  const { from, exported, signal } = options;
  const reader = await env.connect('connecting for the snapshot');
  const exportedConnection = exported?.connection;
  try {
    const pages = snapshotPages({
      client: reader,
      tables: options.tables,
      from,
      ...(exported ? { exportedSnapshot: exported.name } : {}),
      onImported: async () => {
        // The importing transaction now holds the snapshot; the exporting connection may go.
        await exportedConnection?.end().catch(() => {});
      },
      pageSize: options.pageSize,
      ...(options.onFetch ? { onFetch: options.onFetch } : {}),
      types: options.types,
      logger,
      signal,
    });
    let rows = 0;
    for await (const page of pages) {
      rows += page.records.length;
      yield page;
      if (signal.aborted) return false;
    }
    logger.info(`${CONNECTOR}: snapshot done; streaming from the slot's consistent point`, {
      rows,
      lsn: from.lsn,
    });
  } catch (error) {
    throw env.wrap(failureOf(reader, error), 'reading the snapshot', signal);
  } finally {
    await exportedConnection?.end().catch(() => {});
    await reader.end().catch(() => {});
  }
  // The snapshot is complete: from here on the bookmark is a stream position.
  yield { records: [], bookmark: { kind: 'lsn', slot, lsn: from.lsn } };
  return true;
}
