/** Starting the replication stream from the slot. */
import type { ValueParser } from '@faucet/common-postgres';
import { APPLICATION_NAME, type CdcEnv, CONNECTOR } from './connection.js';
import { formatLsn } from './lsn.js';
import { ReplicationStream } from './stream.js';

const SLOT_IN_USE = '55006';

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

export interface StreamStart {
  startLsn: bigint;
  /** The position reported as confirmed until a newer bookmark is stored. */
  confirmedLsn: bigint;
  parser: (oid: number) => ValueParser;
  pageSize: number;
  signal: AbortSignal;
}

/** Start streaming, retrying while a previous reader's walsender still holds the slot. */
export async function startStream(env: CdcEnv, start: StreamStart): Promise<ReplicationStream> {
  const { config, logger, slot } = env;
  const { startLsn, confirmedLsn, parser, pageSize, signal } = start;
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
        throw env.wrap(error, `starting replication from slot "${slot}" at ${formatLsn(startLsn)}`, signal);
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
