/**
 * The postgres-cdc source. A read:
 *   1. checks the slot and publication (creating them when allowed), refusing a lost or missing slot
 *      that a stored bookmark depends on;
 *   2. runs the initial snapshot when there is no stored position yet (exact when this run created
 *      the slot, whose exported snapshot it reads), checkpointed by table and keyset page;
 *   3. streams from the bookmark's LSN (or the slot's consistent point), one page per transaction.
 * The slot is confirmed only from `onCheckpoint`, which the engine calls after a bookmark is durably
 * stored; and the position sent is the bookmark itself.
 */

import { randomUUID } from 'node:crypto';
import {
  type ArrayType,
  failureOf,
  guardClient,
  loadArrayTypes,
  lostConnection,
  mapPgError,
  parserFor,
  queryTypes,
  redactPgError,
  serverName,
  type ValueParser,
} from '@faucet/common-postgres';
import {
  CancelledError,
  ConfigError,
  type DiscoveredStream,
  type FaucetError,
  isFaucetError,
  type JsonObject,
  type JsonValue,
  type Logger,
  type Page,
  Redactor,
  type Source,
  type SourceContext,
  SourceError,
  silentLogger,
} from '@faucet/core';
import { metrics } from '@opentelemetry/api';
import pg from 'pg';
import { type CdcBookmark, parseBookmark, type SnapshotBookmark } from './bookmark.js';
import {
  createPublication,
  type PublishedTable,
  publicationExists,
  publishedTables,
  type SlotInfo,
  slotInfo,
  slotLagBytes,
  tableKey,
} from './catalog.js';
import {
  durationMs,
  type PostgresCdcConfig,
  type PostgresCdcConfigInput,
  postgresCdcConfigSchema,
} from './config.js';
import { formatLsn, parseLsn } from './lsn.js';
import { slotProblem } from './slot-rules.js';
import { snapshotPages } from './snapshot.js';
import { HEARTBEAT_PREFIX, ReplicationStream, SYNC_PREFIX } from './stream.js';

const CONNECTOR = 'postgres-cdc';
const APPLICATION_NAME = 'faucet-source-postgres-cdc';
const SLOT_IN_USE = '55006';
/** How long a run waits for the engine to store (and so confirm) its last page before it ends. */
const FINAL_ACK_WAIT_MS = 30_000;

export interface PostgresCdcSourceOptions {
  logger?: Logger;
  redactor?: Redactor;
  /** Called with the number of rows each snapshot FETCH brought back (tests, progress displays). */
  onSnapshotFetch?: (rows: number) => void;
}

/**
 * The `faucet.source.postgres_cdc.slot_lag_bytes` gauge for one read, observing `lag()`. Made per
 * read, not once per process: `@opentelemetry/api` hands out no-op meters until an SDK is
 * registered, so an instrument made earlier would stay a no-op. Returns the function that stops it.
 */
function observeSlotLag(slot: string, lag: () => number | undefined): () => void {
  try {
    const gauge = metrics
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

function parseConfig(input: PostgresCdcConfigInput): PostgresCdcConfig {
  const result = postgresCdcConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    { context: `invalid config for source "${CONNECTOR}"` },
  );
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** What `check()` reports about the slot, also logged at the start and end of a run. */
export interface SlotStatus extends JsonObject {
  slot: string;
  exists: boolean;
  active: boolean;
  confirmed_flush_lsn: string | null;
  wal_status: string | null;
  lag_bytes: number | null;
}

export interface PostgresCdcSource extends Source {
  /** The slot as the server sees it now (lag in bytes included). */
  status(): Promise<SlotStatus>;
}

export function createPostgresCdcSource(
  input: PostgresCdcConfigInput,
  options: PostgresCdcSourceOptions = {},
): PostgresCdcSource {
  const config = parseConfig(input);
  const logger = options.logger ?? silentLogger;
  const redactor = options.redactor ?? Redactor.forConfig(config).add(config.connection_url);
  const server = serverName(config.connection_url);
  const slot = config.slot_name;
  const idleTimeoutMs = durationMs(config.idle_timeout);
  const statusIntervalMs = durationMs(config.status_update_interval);
  const heartbeatMs = durationMs(config.heartbeat_interval);
  let stream: ReplicationStream | undefined;
  /** The newest stored bookmark of this run, and who waits for it. */
  let storedLsn: bigint | undefined;
  const ackWaiters = new Set<() => void>();

  const wrap = (error: unknown, action: string, signal?: AbortSignal): FaucetError => {
    if (isFaucetError(error)) return error;
    const wrapped = signal?.aborted
      ? new CancelledError(`${CONNECTOR} source (${server}): ${action} was cancelled`, {
          cause: error,
          connector: CONNECTOR,
        })
      : mapPgError(error, {
          name: `${CONNECTOR} source`,
          server,
          action,
          serverText: (e) => `${e.message} (SQLSTATE ${e.code})${e.hint ? `; hint: ${e.hint}` : ''}`,
          failure: (message, opts) => new SourceError(message, opts),
        });
    return redactPgError(wrapped, redactor);
  };

  const fail = (message: string): SourceError =>
    new SourceError(`${CONNECTOR} source (${server}): ${message}`, { connector: CONNECTOR });

  /** A client of our own; `onLost` hears when its connection breaks (a server restart, a network failure). */
  async function connect(action = 'connecting', onLost?: (error: Error) => void): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: config.connection_url,
      application_name: APPLICATION_NAME,
      connectionTimeoutMillis: config.connect_timeout_ms,
    });
    guardClient(client, (error) => {
      logger.warn(`${CONNECTOR}: a connection failed`, { error: redactor.redact(error.message) });
      onLost?.(error);
    });
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => {});
      throw wrap(error, action);
    }
    return client;
  }

  /** The last slot lag measured (bytes), for the gauge. */
  let lastLag: number | undefined;

  async function status(client: pg.Client): Promise<SlotStatus> {
    const info = await slotInfo(client, slot);
    const lag = info ? await slotLagBytes(client, slot) : undefined;
    if (lag !== undefined) lastLag = lag;
    return {
      slot,
      exists: info !== undefined,
      active: info?.active ?? false,
      confirmed_flush_lsn: info?.confirmedFlushLsn ?? null,
      wal_status: info?.walStatus ?? null,
      lag_bytes: lag ?? null,
    };
  }

  /** The publication exists (created when configured to) and names at least one table. */
  async function preparePublication(admin: pg.Client): Promise<PublishedTable[]> {
    if (!(await publicationExists(admin, config.publication_name))) {
      if (!config.create_publication) {
        throw fail(
          `publication "${config.publication_name}" does not exist; create it ` +
            `(CREATE PUBLICATION ${config.publication_name} FOR TABLE …) or list its tables in create_publication`,
        );
      }
      try {
        await createPublication(admin, config.publication_name, config.create_publication);
      } catch (error) {
        if (!(error instanceof Error && /already exists/.test(error.message))) throw error;
      }
      logger.info(`${CONNECTOR}: created publication`, {
        publication: config.publication_name,
        tables: config.create_publication,
      });
    }
    const tables = await publishedTables(admin, config.publication_name);
    if (tables.length === 0) {
      logger.warn(
        `${CONNECTOR}: publication "${config.publication_name}" has no tables; nothing will stream`,
      );
    }
    for (const table of tables) {
      const { columns, identity } = await tableKey(admin, table);
      if (columns.length === 0 && identity !== 'f') {
        logger.warn(
          `${CONNECTOR}: table ${table.name} has no primary key and REPLICA IDENTITY is not FULL: ` +
            `the server refuses its UPDATEs and DELETEs while it is published; ALTER TABLE ${table.name} REPLICA IDENTITY FULL`,
        );
      }
    }
    return tables;
  }

  /** Refuse a slot that cannot deliver what the stored bookmark needs. */
  function checkSlot(info: SlotInfo | undefined, bookmark: CdcBookmark | undefined): void {
    const problem = slotProblem(slot, config.slot_type, info, bookmark);
    if (problem) throw fail(problem);
  }

  /** Create the permanent slot; with `exportSnapshot` the connection is kept open for the snapshot. */
  async function createSlot(exportSnapshot: boolean): Promise<{
    consistentPoint: string;
    snapshotName?: string;
    connection: pg.Client;
  }> {
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
      throw wrap(error, `creating replication slot "${slot}"`);
    }
  }

  /** Start streaming, retrying while a previous reader's walsender still holds the slot. */
  async function startStream(
    startLsn: bigint,
    confirmedLsn: bigint,
    parser: (oid: number) => ValueParser,
    pageSize: number,
    signal: AbortSignal,
  ): Promise<ReplicationStream> {
    let delay = 250;
    const deadline = performance.now() + 60_000;
    for (;;) {
      const candidate = new ReplicationStream({
        connectionUrl: config.connection_url,
        applicationName: APPLICATION_NAME,
        connectTimeoutMs: config.connect_timeout_ms,
        slot,
        publication: config.publication_name,
        protoVersion: config.proto_version,
        startLsn,
        confirmedLsn,
        temporarySlot: config.slot_type === 'temporary',
        parserFor: parser,
        pageSize,
        capacity: config.max_staged_records,
        logger,
      });
      try {
        await candidate.start();
        return candidate;
      } catch (error) {
        await candidate.stop();
        const inUse = (error as { code?: unknown }).code === SLOT_IN_USE;
        if (!inUse || performance.now() > deadline || signal.aborted) {
          throw wrap(error, `starting replication from slot "${slot}" at ${formatLsn(startLsn)}`, signal);
        }
        logger.info(`${CONNECTOR}: the slot is still held by a previous reader; retrying`, {
          slot,
          delay_ms: delay,
        });
        await sleep(delay, signal);
        delay = Math.min(delay * 2, 4000);
      }
    }
  }

  async function* read(ctx: SourceContext): AsyncGenerator<Page> {
    const signal = ctx.signal;
    const pageSize = Math.min(config.batch_size, ctx.batchSize);
    let bookmark = parseBookmark(ctx.bookmark, slot);
    if (!ctx.durableState) {
      logger.warn(
        `${CONNECTOR}: the state store is not durable (or there is none): the slot is never confirmed, so the ` +
          'server keeps all WAL since its position. Use a durable state store (file, postgres, redis) for real runs',
      );
    }
    // The run streams while this connection lives: it writes the heartbeats and sync markers, and its
    // loss means the server went away (a restart waits for the walsender, which waits for us).
    const admin = await connect('connecting', (error) => stream?.channel.fail(error));
    const stopGauge = observeSlotLag(slot, () => lastLag);
    let heartbeatTimer: NodeJS.Timeout | undefined;
    let statusTimer: NodeJS.Timeout | undefined;
    try {
      let info: SlotInfo | undefined;
      let tables: PublishedTable[];
      let arrays: Map<number, ArrayType>;
      try {
        tables = await preparePublication(admin);
        info = await slotInfo(admin, slot);
        arrays = await loadArrayTypes(admin);
      } catch (error) {
        throw wrap(error, 'checking the slot and publication');
      }
      if (bookmark && config.slot_type === 'temporary') {
        logger.warn(`${CONNECTOR}: a temporary slot cannot resume; the stored bookmark is ignored`, {
          bookmark: bookmark.lsn,
        });
        bookmark = undefined;
      }
      checkSlot(info, bookmark);
      const cache = new Map<number, ValueParser>();
      const parser = (oid: number): ValueParser => {
        let p = cache.get(oid);
        if (!p) {
          p = parserFor(oid, arrays);
          cache.set(oid, p);
        }
        return p;
      };
      const types = queryTypes(arrays);

      // 1. No slot yet: create it (exporting its snapshot when a snapshot is to be taken).
      let snapshotFrom: SnapshotBookmark | undefined;
      let exported: { name: string; connection: pg.Client } | undefined;
      let startLsn: bigint | undefined;
      if (!info && config.slot_type === 'permanent') {
        if (!config.create_slot_if_missing) {
          throw fail(`replication slot "${slot}" does not exist and create_slot_if_missing is false`);
        }
        const created = await createSlot(config.snapshot === 'initial');
        startLsn = parseLsn(created.consistentPoint);
        if (config.snapshot === 'initial' && created.snapshotName) {
          exported = { name: created.snapshotName, connection: created.connection };
          snapshotFrom = {
            kind: 'snapshot',
            slot,
            lsn: formatLsn(startLsn),
            exact: true,
            done: [],
            table: null,
            after: null,
          };
        } else {
          await created.connection.end().catch(() => {});
        }
      } else if (bookmark?.kind === 'snapshot') {
        logger.warn(
          `${CONNECTOR}: resuming an interrupted snapshot under a new snapshot (the slot's exported one ended ` +
            'with the run): a row changed since the slot was created may come twice, once as a snapshot row ' +
            'and once as a change; none is missed',
          { done: bookmark.done, table: bookmark.table },
        );
        snapshotFrom = { ...bookmark, exact: false };
      } else if (!bookmark && config.snapshot === 'initial' && info) {
        const point = info.confirmedFlushLsn ?? '0/0';
        logger.warn(
          `${CONNECTOR}: slot "${slot}" already exists and there is no stored position: the snapshot is read ` +
            "under a new snapshot and streaming starts at the slot's position, so a row changed meanwhile may " +
            'come twice (never missed). Let the source create its slot for an exact seam',
          { confirmed_flush_lsn: point },
        );
        snapshotFrom = {
          kind: 'snapshot',
          slot,
          lsn: formatLsn(parseLsn(point)),
          exact: false,
          done: [],
          table: null,
          after: null,
        };
      }

      // 2. The snapshot, checkpointed by table and key.
      if (snapshotFrom) {
        const reader = await connect('connecting for the snapshot');
        const exportedConnection = exported?.connection;
        try {
          const pages = snapshotPages({
            client: reader,
            tables,
            from: snapshotFrom,
            ...(exported ? { exportedSnapshot: exported.name } : {}),
            onImported: async () => {
              // The importing transaction now holds the snapshot; the exporting connection may go.
              await exportedConnection?.end().catch(() => {});
              exported = undefined;
            },
            pageSize: Math.min(pageSize, config.snapshot_batch_size),
            ...(options.onSnapshotFetch ? { onFetch: options.onSnapshotFetch } : {}),
            types,
            logger,
            signal,
          });
          let rows = 0;
          for await (const page of pages) {
            rows += page.records.length;
            yield page;
            if (signal.aborted) return;
          }
          logger.info(`${CONNECTOR}: snapshot done; streaming from the slot's consistent point`, {
            rows,
            lsn: snapshotFrom.lsn,
          });
        } catch (error) {
          throw wrap(failureOf(reader, error), 'reading the snapshot', signal);
        } finally {
          await exportedConnection?.end().catch(() => {});
          await reader.end().catch(() => {});
        }
        startLsn = parseLsn(snapshotFrom.lsn);
        // The snapshot is complete: from here on the bookmark is a stream position.
        yield { records: [], bookmark: { kind: 'lsn', slot, lsn: snapshotFrom.lsn } };
      }
      if (bookmark?.kind === 'lsn') startLsn = parseLsn(bookmark.lsn);
      startLsn ??= info?.confirmedFlushLsn ? parseLsn(info.confirmedFlushLsn) : 0n;

      // 3. Stream.
      if (signal.aborted) return;
      await status(admin).catch(() => undefined);
      // Report as confirmed only what is durable: the stored bookmark, else the slot's own position.
      const slotPosition = info?.confirmedFlushLsn ? parseLsn(info.confirmedFlushLsn) : startLsn;
      const confirmedLsn = bookmark?.kind === 'lsn' && ctx.durableState ? startLsn : slotPosition;
      stream = await startStream(
        startLsn,
        confirmedLsn < startLsn ? confirmedLsn : startLsn,
        parser,
        pageSize,
        signal,
      );
      const live = stream;
      const lostAdmin = lostConnection(admin);
      if (lostAdmin) live.channel.fail(lostAdmin);
      logger.info(`${CONNECTOR}: streaming`, {
        slot,
        from: formatLsn(startLsn),
        publication: config.publication_name,
      });
      statusTimer = setInterval(() => {
        live.sendStatus();
        void status(admin).catch(() => {});
      }, statusIntervalMs);
      statusTimer.unref();
      if (heartbeatMs > 0) {
        let beating = false;
        let warned = false;
        heartbeatTimer = setInterval(
          () => {
            if (beating || performance.now() - live.lastCommitAt < heartbeatMs) return;
            beating = true;
            live.lastCommitAt = performance.now();
            admin
              .query({
                text: 'SELECT pg_logical_emit_message(true, $1, $2)',
                values: [HEARTBEAT_PREFIX, new Date().toISOString()],
              })
              .catch((error: unknown) => {
                if (!warned) {
                  warned = true;
                  logger.warn(
                    `${CONNECTOR}: could not write a heartbeat; the slot advances only with changes`,
                    {
                      error: redactor.redact(error instanceof Error ? error.message : String(error)),
                    },
                  );
                }
              })
              .finally(() => {
                beating = false;
              });
          },
          Math.min(1000, heartbeatMs),
        );
        heartbeatTimer.unref();
      }

      let lastYielded: bigint | undefined;
      let reason = 'cancelled';
      // Idle means no change for idle_timeout AND the server has nothing older left to send: before
      // stopping, a sync marker is written and the run waits for it to come back through the slot,
      // so a backlog the server is still decoding (a big WAL to read through) is never cut off.
      let syncAt: string | undefined;
      let syncFrom = 0;
      let waitingLogged = false;
      for (;;) {
        const idle = idleTimeoutMs;
        let wait: number | undefined;
        if (idle > 0) {
          const remaining = live.lastChangeAt + idle - performance.now();
          wait = remaining > 0 ? remaining : 250;
        }
        let taken: Awaited<ReturnType<typeof live.channel.take>>;
        try {
          taken = await live.channel.take(wait, signal);
        } catch (error) {
          throw wrap(error, `streaming from slot "${slot}"`, signal);
        }
        if (taken === 'aborted') return;
        if (taken === 'timeout') {
          if (performance.now() - live.lastChangeAt < idle) continue;
          if (syncAt !== undefined && live.lastChangeAt > syncFrom) syncAt = undefined; // changes came: sync again
          if (syncAt === undefined) {
            syncFrom = performance.now();
            syncAt = await emitSyncMarker(admin, live);
            if (syncAt === undefined) {
              reason = `idle for ${idle} ms`;
              break;
            }
            continue;
          }
          if (live.synced) {
            reason = `idle for ${idle} ms`;
            break;
          }
          if (!waitingLogged && performance.now() - syncFrom > idle) {
            waitingLogged = true;
            logger.info(
              `${CONNECTOR}: no change for idle_timeout, but the server is still sending older WAL; waiting`,
              {
                sync_marker: syncAt,
              },
            );
          }
          continue;
        }
        yield taken;
        const b = taken.bookmark as { lsn?: string } | undefined;
        if (b?.lsn) lastYielded = parseLsn(b.lsn);
        if (config.max_messages !== undefined && b?.lsn && live.changes >= config.max_messages) {
          reason = `max_messages (${config.max_messages}) reached`;
          break;
        }
      }
      // Ending on our own terms: let the engine store (and us confirm) the last page first.
      if (lastYielded !== undefined && ctx.durableState) {
        await waitForStored(lastYielded, FINAL_ACK_WAIT_MS, signal);
      }
      logger.info(`${CONNECTOR}: stopping`, { reason, changes: live.changes, ...live.describe() });
    } finally {
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      if (statusTimer) clearInterval(statusTimer);
      await stream?.stop();
      stream = undefined;
      try {
        const s = await status(admin);
        logger.info(`${CONNECTOR}: slot status`, s);
      } catch {
        // best effort
      }
      stopGauge();
      await admin.end().catch(() => {});
    }
  }

  let syncWarned = false;
  let syncCount = 0;
  const syncNonce = randomUUID();
  /** Write a sync marker; its token, or undefined when the server refuses (a read-only standby). */
  async function emitSyncMarker(admin: pg.Client, live: ReplicationStream): Promise<string | undefined> {
    const token = `${syncNonce}:${++syncCount}`;
    live.expectSync(token);
    try {
      await admin.query({
        text: 'SELECT pg_logical_emit_message(false, $1, $2)',
        values: [SYNC_PREFIX, token],
      });
      return token;
    } catch (error) {
      if (!syncWarned) {
        syncWarned = true;
        logger.warn(
          `${CONNECTOR}: could not write a sync marker, so idle_timeout cannot tell an idle database from a ` +
            'server still sending a backlog; stopping on idle_timeout alone',
          { error: redactor.redact(error instanceof Error ? error.message : String(error)) },
        );
      }
      return undefined;
    }
  }

  function waitForStored(lsn: bigint, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (storedLsn !== undefined && storedLsn >= lsn) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        ackWaiters.delete(check);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const check = () => {
        if (storedLsn !== undefined && storedLsn >= lsn) done();
      };
      const timer = setTimeout(done, timeoutMs);
      ackWaiters.add(check);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  return {
    stateKey: `postgres-cdc:${slot}`,
    deterministic: true,
    read,
    onCheckpoint(bookmark: JsonValue) {
      const parsed = parseBookmark(bookmark, slot);
      if (parsed?.kind !== 'lsn') return;
      const lsn = parseLsn(parsed.lsn);
      if (storedLsn === undefined || lsn > storedLsn) storedLsn = lsn;
      stream?.confirm(lsn);
      for (const waiter of [...ackWaiters]) waiter();
    },
    async check() {
      const admin = await connect();
      try {
        // A slot that is lost or uses another plugin is unusable whatever is stored.
        checkSlot(await slotInfo(admin, slot), undefined);
        if (!(await publicationExists(admin, config.publication_name)) && !config.create_publication) {
          throw fail(`publication "${config.publication_name}" does not exist`);
        }
        const { rows } = await admin.query<{ wal_level: string }>('SHOW wal_level');
        if (rows[0]?.wal_level !== 'logical') {
          throw fail(
            `wal_level is ${rows[0]?.wal_level ?? 'unknown'}, not logical; set wal_level = logical and restart`,
          );
        }
      } catch (error) {
        throw wrap(error, 'checking the slot');
      } finally {
        await admin.end().catch(() => {});
      }
    },
    async status() {
      const admin = await connect();
      try {
        return await status(admin);
      } catch (error) {
        throw wrap(error, 'reading the slot status');
      } finally {
        await admin.end().catch(() => {});
      }
    },
    async discover(): Promise<DiscoveredStream[]> {
      const admin = await connect();
      try {
        const tables = await publishedTables(admin, config.publication_name);
        const out: DiscoveredStream[] = [];
        for (const table of tables) {
          const { columns } = await tableKey(admin, table);
          out.push({
            name: table.name,
            primaryKeys: columns,
            schema: {
              type: 'object',
              properties: {
                op: { enum: ['insert', 'update', 'delete', 'truncate', 'read'] },
                schema: { type: 'string' },
                table: { type: 'string' },
                lsn: { type: ['string', 'null'] },
                commit_ts: { type: ['string', 'null'], format: 'date-time' },
                key: { type: ['object', 'null'] },
                before: { type: ['object', 'null'] },
                after: { type: ['object', 'null'] },
              },
              required: ['op', 'schema', 'table', 'lsn', 'commit_ts', 'key', 'before', 'after'],
            },
          });
        }
        return out;
      } catch (error) {
        throw wrap(error, 'listing the published tables');
      } finally {
        await admin.end().catch(() => {});
      }
    },
    async close() {
      await stream?.stop();
    },
  };
}
