/**
 * What the run writes into the WAL and sends beside the stream: status updates on an interval,
 * heartbeats (so a slot on a quiet database still advances) and sync markers (so idle_timeout can
 * tell an idle database from a server still sending a backlog).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { durationMs } from './config.js';
import { type CdcEnv, CONNECTOR } from './connection.js';
import { HEARTBEAT_PREFIX, type ReplicationStream, SYNC_PREFIX } from './stream.js';

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Send the slot position every status_update_interval (refreshing the slot status too) and write a
 * heartbeat when no transaction came for heartbeat_interval. Returns the function that stops both.
 */
export function startKeepalive(
  env: CdcEnv,
  admin: pg.Client,
  live: ReplicationStream,
  refreshStatus: () => Promise<unknown>,
): () => void {
  const { config, logger, redactor } = env;
  const heartbeatMs = durationMs(config.heartbeat_interval);
  let heartbeatTimer: NodeJS.Timeout | undefined;
  const statusTimer = setInterval(() => {
    live.sendStatus();
    void refreshStatus().catch(() => {});
  }, durationMs(config.status_update_interval));
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
              logger.warn(`${CONNECTOR}: could not write a heartbeat; the slot advances only with changes`, {
                error: redactor.redact(messageOf(error)),
              });
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
  return () => {
    if (heartbeatTimer) clearInterval(heartbeatTimer);
    clearInterval(statusTimer);
  };
}

/** Writes a sync marker; its token, or undefined when the server refuses (a read-only standby). */
export type SyncMarkerWriter = (admin: pg.Client, live: ReplicationStream) => Promise<string | undefined>;

/** The sync marker writer of one source: tokens unique to it, one warning for its life. */
export function createSyncMarkers(env: CdcEnv): SyncMarkerWriter {
  let syncWarned = false;
  let syncCount = 0;
  const syncNonce = randomUUID();
  return async (admin, live) => {
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
        env.logger.warn(
          `${CONNECTOR}: could not write a sync marker, so idle_timeout cannot tell an idle database from a ` +
            'server still sending a backlog; stopping on idle_timeout alone',
          { error: env.redactor.redact(messageOf(error)) },
        );
      }
      return undefined;
    }
  };
}
