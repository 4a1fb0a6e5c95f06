/**
 * The streaming loop: one page per transaction from the replication stream, until cancelled, idle
 * (confirmed by a sync marker coming back through the slot) or max_messages.
 */
import type { Page } from '@faucet/core';
import type pg from 'pg';
import { durationMs } from './config.js';
import { type CdcEnv, CONNECTOR } from './connection.js';
import { parseLsn } from './lsn.js';
import type { ReplicationStream } from './stream.js';
import type { SyncMarkerWriter } from './wal-messages.js';

export interface StreamEnd {
  reason: string;
  /** The LSN of the last page yielded with one. */
  lastYielded: bigint | undefined;
}

export interface StreamPagesOptions {
  admin: pg.Client;
  emitSyncMarker: SyncMarkerWriter;
  signal: AbortSignal;
}

/** The pages of the stream; returns why it stopped, or undefined when the read was cancelled. */
export async function* streamPages(
  env: CdcEnv,
  live: ReplicationStream,
  { admin, emitSyncMarker, signal }: StreamPagesOptions,
): AsyncGenerator<Page, StreamEnd | undefined> {
  const { config, logger, slot } = env;
  const idle = durationMs(config.idle_timeout);
  let lastYielded: bigint | undefined;
  let reason = 'cancelled';
  // Idle means no change for idle_timeout AND the server has nothing older left to send: before
  // stopping, a sync marker is written and the run waits for it to come back through the slot,
  // so a backlog the server is still decoding (a big WAL to read through) is never cut off.
  let syncAt: string | undefined;
  let syncFrom = 0;
  let waitingLogged = false;
  for (;;) {
    let wait: number | undefined;
    if (idle > 0) {
      const remaining = live.lastChangeAt + idle - performance.now();
      wait = remaining > 0 ? remaining : 250;
    }
    let taken: Awaited<ReturnType<typeof live.channel.take>>;
    try {
      taken = await live.channel.take(wait, signal);
    } catch (error) {
      throw env.wrap(error, `streaming from slot "${slot}"`, signal);
    }
    if (taken === 'aborted') return undefined;
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
  return { reason, lastYielded };
}
