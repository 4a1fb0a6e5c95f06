/**
 * The replication slot: its status (and the lag gauge fed from it), the check that it can deliver
 * what a stored bookmark needs, and its creation (exporting a snapshot for an exact seam).
 */
import { type JsonObject, openTelemetryApi } from '@faucet/core';
import pg from 'pg';
import type { CdcBookmark } from './bookmark.js';
import { type SlotInfo, slotInfo, slotLagBytes } from './catalog.js';
import { APPLICATION_NAME, type CdcEnv, CONNECTOR } from './connection.js';
import { slotProblem } from './slot-rules.js';

/** What `check()` reports about the slot, also logged at the start and end of a run. */
export interface SlotStatus extends JsonObject {
  slot: string;
  exists: boolean;
  active: boolean;
  confirmed_flush_lsn: string | null;
  wal_status: string | null;
  lag_bytes: number | null;
}

/**
 * The `faucet.source.postgres_cdc.slot_lag_bytes` gauge for one read, observing `lag()`. Made per
 * read, not once per process: `@opentelemetry/api` hands out no-op meters until an SDK is
 * registered, so an instrument made earlier would stay a no-op (and with nothing registered the API
 * is not even loaded: `openTelemetryApi`). Returns the function that stops it.
 */
export function observeSlotLag(slot: string, lag: () => number | undefined): () => void {
  try {
    const api = openTelemetryApi();
    if (!api) return () => {};
    const gauge = api.metrics
      .getMeter('@faucet/source-postgres-cdc')
      .createObservableGauge('faucet.source.postgres_cdc.slot_lag_bytes', {
        description: 'WAL bytes the replication slot holds back (current WAL position - confirmed_flush_lsn)',
        unit: 'By',
      });
    const callback = (result: { observe(value: number, attributes: { slot: string }): void }) => {
      const value = lag();
      if (value !== undefined) result.observe(value, { slot });
    };
    gauge.addCallback(callback);
    return () => gauge.removeCallback(callback);
  } catch {
    // metrics never fail a run
    return () => {};
  }
}

/** The slot as the server sees it now; `onLag` hears each lag measured (bytes). */
export async function readSlotStatus(
  client: pg.Client,
  slot: string,
  onLag: (bytes: number) => void,
): Promise<SlotStatus> {
  const info = await slotInfo(client, slot);
  const lag = info ? await slotLagBytes(client, slot) : undefined;
  if (lag !== undefined) onLag(lag);
  return {
    slot,
    exists: info !== undefined,
    active: info?.active ?? false,
    confirmed_flush_lsn: info?.confirmedFlushLsn ?? null,
    wal_status: info?.walStatus ?? null,
    lag_bytes: lag ?? null,
  };
}

/** Refuse a slot that cannot deliver what the stored bookmark needs. */
export function checkSlot(env: CdcEnv, info: SlotInfo | undefined, bookmark: CdcBookmark | undefined): void {
  const problem = slotProblem(env.slot, env.config.slot_type, info, bookmark);
  if (problem) throw env.fail(problem);
}

export interface CreatedSlot {
  consistentPoint: string;
  snapshotName?: string;
  connection: pg.Client;
}

/** Create the permanent slot; with `exportSnapshot` the connection is kept open for the snapshot. */
export async function createSlot(env: CdcEnv, exportSnapshot: boolean): Promise<CreatedSlot> {
  const { config, logger, slot } = env;
  const connection = new pg.Client({
    connectionString: config.connection_url,
    application_name: APPLICATION_NAME,
    connectionTimeoutMillis: config.connect_timeout_ms,
    replication: 'database',
  } as pg.ClientConfig);
  connection.on('error', () => {});
  try {
    await connection.connect();
    const result = await connection.query<{ consistent_point: string; snapshot_name: string | null }>(
      `CREATE_REPLICATION_SLOT "${slot}" LOGICAL pgoutput ${exportSnapshot ? 'EXPORT_SNAPSHOT' : 'NOEXPORT_SNAPSHOT'}`,
    );
    const row = result.rows[0];
    if (!row) throw new Error('CREATE_REPLICATION_SLOT returned nothing');
    logger.info(`${CONNECTOR}: created replication slot`, { slot, consistent_point: row.consistent_point });
    return {
      consistentPoint: row.consistent_point,
      ...(row.snapshot_name ? { snapshotName: row.snapshot_name } : {}),
      connection,
    };
  } catch (error) {
    await connection.end().catch(() => {});
    throw env.wrap(error, `creating replication slot "${slot}"`);
  }
}
