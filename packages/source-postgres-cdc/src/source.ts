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

import {
  type ArrayType,
  loadArrayTypes,
  lostConnection,
  parserFor,
  queryTypes,
  type ValueParser,
} from '@faucet/common-postgres';
import {
  ConfigError,
  type DiscoveredStream,
  type JsonValue,
  type Logger,
  type Page,
  Redactor,
  type Source,
  type SourceContext,
  silentLogger,
} from '@faucet/core';
import type pg from 'pg';
import { createStoredPositions } from './acks.js';
import { parseBookmark } from './bookmark.js';
import { type PublishedTable, publicationExists, type SlotInfo, slotInfo } from './catalog.js';
import { type PostgresCdcConfig, type PostgresCdcConfigInput, postgresCdcConfigSchema } from './config.js';
import { CONNECTOR, createCdcEnv } from './connection.js';
import { planStart, readSnapshot } from './initial-snapshot.js';
import { formatLsn, parseLsn } from './lsn.js';
import { describePublishedTables, preparePublication } from './publication.js';
import { startStream } from './replication.js';
import { checkSlot, observeSlotLag, readSlotStatus, type SlotStatus } from './slot.js';
import type { ReplicationStream } from './stream.js';
import { streamPages } from './streaming.js';
import { createSyncMarkers, startKeepalive } from './wal-messages.js';

export type { SlotStatus } from './slot.js';

/** How long a run waits for the engine to store (and so confirm) its last page before it ends. */
const FINAL_ACK_WAIT_MS = 30_000;

export interface PostgresCdcSourceOptions {
  logger?: Logger;
  redactor?: Redactor;
  /** Called with the number of rows each snapshot FETCH brought back (tests, progress displays). */
  onSnapshotFetch?: (rows: number) => void;
}

function parseConfig(input: PostgresCdcConfigInput): PostgresCdcConfig {
  const result = postgresCdcConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    { context: `invalid config for source "${CONNECTOR}"` },
  );
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
  const env = createCdcEnv(config, logger, redactor);
  const { slot, wrap, fail, connect } = env;
  let stream: ReplicationStream | undefined;
  const positions = createStoredPositions();
  const emitSyncMarker = createSyncMarkers(env);
  /** The last slot lag measured (bytes), for the gauge. */
  let lastLag: number | undefined;

  const status = (client: pg.Client): Promise<SlotStatus> =>
    readSlotStatus(client, slot, (lag) => {
      lastLag = lag;
    });

  /** With one admin connection: open it, run, map errors to what was being done, close it. */
  async function withAdmin<T>(action: string, run: (admin: pg.Client) => Promise<T>): Promise<T> {
    const admin = await connect();
    try {
      return await run(admin);
    } catch (error) {
      throw wrap(error, action);
    } finally {
      await admin.end().catch(() => {});
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
    let stopKeepalive: (() => void) | undefined;
    try {
      let info: SlotInfo | undefined;
      let tables: PublishedTable[];
      let arrays: Map<number, ArrayType>;
      try {
        tables = await preparePublication(env, admin);
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
      checkSlot(env, info, bookmark);
      const cache = new Map<number, ValueParser>();
      const parser = (oid: number): ValueParser => {
        let p = cache.get(oid);
        if (!p) {
          p = parserFor(oid, arrays);
          cache.set(oid, p);
        }
        return p;
      };

      // 1. No slot yet: create it (exporting its snapshot when a snapshot is to be taken).
      const plan = await planStart(env, info, bookmark);
      let startLsn = plan.startLsn;

      // 2. The snapshot, checkpointed by table and key.
      if (plan.snapshotFrom) {
        const completed = yield* readSnapshot(env, {
          tables,
          from: plan.snapshotFrom,
          exported: plan.exported,
          pageSize: Math.min(pageSize, config.snapshot_batch_size),
          onFetch: options.onSnapshotFetch,
          types: queryTypes(arrays),
          signal,
        });
        if (!completed) return;
        startLsn = parseLsn(plan.snapshotFrom.lsn);
      }
      if (bookmark?.kind === 'lsn') startLsn = parseLsn(bookmark.lsn);
      startLsn ??= info?.confirmedFlushLsn ? parseLsn(info.confirmedFlushLsn) : 0n;

      // 3. Stream.
      if (signal.aborted) return;
      await status(admin).catch(() => undefined);
      // Report as confirmed only what is durable: the stored bookmark, else the slot's own position.
      const slotPosition = info?.confirmedFlushLsn ? parseLsn(info.confirmedFlushLsn) : startLsn;
      const confirmedLsn = bookmark?.kind === 'lsn' && ctx.durableState ? startLsn : slotPosition;
      stream = await startStream(env, {
        startLsn,
        confirmedLsn: confirmedLsn < startLsn ? confirmedLsn : startLsn,
        parser,
        pageSize,
        signal,
      });
      const live = stream;
      const lostAdmin = lostConnection(admin);
      if (lostAdmin) live.channel.fail(lostAdmin);
      logger.info(`${CONNECTOR}: streaming`, {
        slot,
        from: formatLsn(startLsn),
        publication: config.publication_name,
      });
      stopKeepalive = startKeepalive(env, admin, live, () => status(admin));
      const end = yield* streamPages(env, live, { admin, emitSyncMarker, signal });
      if (!end) return;
      // Ending on our own terms: let the engine store (and us confirm) the last page first.
      if (end.lastYielded !== undefined && ctx.durableState) {
        await positions.waitFor(end.lastYielded, FINAL_ACK_WAIT_MS, signal);
      }
      logger.info(`${CONNECTOR}: stopping`, {
        reason: end.reason,
        changes: live.changes,
        ...live.describe(),
      });
    } finally {
      stopKeepalive?.();
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

  return {
    stateKey: `postgres-cdc:${slot}`,
    deterministic: true,
    read,
    onCheckpoint(bookmark: JsonValue) {
      const parsed = parseBookmark(bookmark, slot);
      if (parsed?.kind !== 'lsn') return;
      const lsn = parseLsn(parsed.lsn);
      stream?.confirm(lsn);
      positions.stored(lsn);
    },
    async check() {
      await withAdmin('checking the slot', async (admin) => {
        // A slot that is lost or uses another plugin is unusable whatever is stored.
        checkSlot(env, await slotInfo(admin, slot), undefined);
        if (!(await publicationExists(admin, config.publication_name)) && !config.create_publication) {
          throw fail(`publication "${config.publication_name}" does not exist`);
        }
        const { rows } = await admin.query<{ wal_level: string }>('SHOW wal_level');
        if (rows[0]?.wal_level !== 'logical') {
          throw fail(
            `wal_level is ${rows[0]?.wal_level ?? 'unknown'}, not logical; set wal_level = logical and restart`,
          );
        }
      });
    },
    status: () => withAdmin('reading the slot status', status),
    discover: (): Promise<DiscoveredStream[]> =>
      withAdmin('listing the published tables', (admin) =>
        describePublishedTables(admin, config.publication_name),
      ),
    async close() {
      await stream?.stop();
    },
  };
}
