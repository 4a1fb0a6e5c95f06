/**
 * The S3 sink: records go into part files under `prefix` + `key_template`. A part is streamed to S3
 * as a multipart upload while it fills and becomes visible only when it is complete: at every
 * flush (each checkpoint) and, in at-least-once delivery, also when it reaches roll_records,
 * roll_bytes or roll_seconds. A run that fails or is cancelled aborts its open part.
 *
 * Effectively-once (`delivery: effectively_once`): one part per checkpoint interval, its key made
 * from the commit token of its first page and written with If-None-Match: *, so a replayed page
 * overwrites nothing and duplicates nothing; the marker object (marker.ts) holds the last token.
 */
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client, endpointName, mapS3Error } from '@faucet/common-s3';
import {
  type CloseOutcome,
  type CommitScope,
  type FaucetRecord,
  type Logger,
  type Sink,
  SinkError,
  silentLogger,
  type WriteResult,
} from '@faucet/core';
import { abortAbandonedUploads } from './cleanup.js';
import type { S3SinkConfig } from './config.js';
import { contentTypeOf, createPartEncoder, extensionOf, type PartEncoder } from './encoders.js';
import { createMarkerStore } from './marker.js';
import { PartUpload } from './part.js';
import { keyPrefix, renderKey, runSeq, tokenSeq } from './template.js';

export interface S3SinkOptions {
  logger?: Logger;
  /** An S3 client to use instead of one made from the config (tests; custom middleware). */
  client?: S3Client;
  /** Fill {pipeline} and {row} (the CLI passes them; default `faucet` and `row-0`). */
  pipeline?: string;
  row?: string;
}

export interface S3SinkStats {
  /** Keys of the parts this instance made visible, in order. */
  parts: string[];
  /** Parts that already existed when completed (replayed pages). */
  existed: number;
  abortedUploads: number;
}

export interface S3Sink extends Sink {
  readonly stats: Readonly<S3SinkStats>;
}

interface OpenPart {
  upload: PartUpload;
  encoder: PartEncoder;
  /** Effectively-once: the scope and the last token written into this part. */
  scope?: string;
  lastToken?: string;
}

export function createS3Sink(config: S3SinkConfig, options: S3SinkOptions = {}): S3Sink {
  const logger = options.logger ?? silentLogger;
  const client = options.client ?? createS3Client(config);
  const endpoint = endpointName(config);
  const { bucket } = config;
  const pipeline = options.pipeline ?? 'faucet';
  const row = options.row ?? 'row-0';
  const started = new Date();
  const runId = randomBytes(3).toString('hex');
  const stats: S3SinkStats = { parts: [], existed: 0, abortedUploads: 0 };
  let counter = 0;
  let open: OpenPart | undefined;
  /** Effectively-once: a checkpoint with no rows still moves the marker. */
  let pendingCommit: { scope: string; token: string } | undefined;
  let cleanup: Promise<void> | undefined;
  let closed = false;

  const fail = (error: unknown, action: string): never => {
    throw mapS3Error(error, {
      endpoint,
      action,
      bucket,
      failure: (message, o) => new SinkError(message, { ...o, connector: 's3' }),
    });
  };
  const markers = createMarkerStore(client, bucket, config.prefix, fail);
  const target = {
    client,
    bucket,
    partSize: config.part_size_bytes,
    contentType: contentTypeOf(config),
    onError: fail,
  };
  const keyFor = (seq: string) =>
    renderKey(config.prefix, config.key_template, {
      pipeline,
      row,
      seq,
      ext: extensionOf(config),
      now: new Date(),
    });

  const ensureCleanup = (): Promise<void> => {
    cleanup ??= (async () => {
      const scope = keyPrefix(config.prefix, config.key_template, pipeline, row);
      stats.abortedUploads += await abortAbandonedUploads({
        client,
        bucket,
        prefix: scope.prefix,
        owned: scope.owned,
        maxAgeMs: config.abandoned_upload_age_seconds * 1000,
        now: started.getTime(),
        logger,
        onError: fail,
      });
    })();
    return cleanup;
  };

  const openPart = (key: string): OpenPart => ({
    upload: new PartUpload(target, key),
    encoder: createPartEncoder(config, `s3://${bucket}/${key}`),
  });

  const append = async (part: OpenPart, records: FaucetRecord[]): Promise<WriteResult> => {
    try {
      const { bytes, failed } = await part.encoder.encode(records);
      await part.upload.append(bytes);
      part.upload.records += records.length - failed.length;
      return failed.length > 0 ? { failed } : {};
    } catch (error) {
      // A part that lost bytes must never become visible.
      open = undefined;
      await part.upload.abort().catch(() => {});
      throw error;
    }
  };

  const completeOpen = async (): Promise<void> => {
    const part = open;
    open = undefined;
    if (!part) return;
    if (part.upload.records === 0 && !part.scope) {
      await part.upload.abort();
      return;
    }
    await part.upload.append(await part.encoder.finish());
    const result = await part.upload.complete();
    if (result === 'existed') {
      stats.existed++;
      logger.info('the part already exists (a replayed page); it was not written again', {
        key: part.upload.key,
      });
    } else stats.parts.push(part.upload.key);
    if (part.scope && part.lastToken) await markers.write({ scope: part.scope, committed: part.lastToken });
  };

  const guard = () => {
    if (closed)
      throw new SinkError(`the s3 sink for s3://${bucket}/${config.prefix} is closed`, { connector: 's3' });
  };

  return {
    get stats() {
      return stats;
    },
    async write(records) {
      guard();
      if (records.length === 0) return;
      await ensureCleanup();
      open ??= openPart(keyFor(runSeq(started, runId, ++counter)));
      const part = open;
      const result = await append(part, records);
      const age = Date.now() - part.upload.openedAt;
      if (
        part.upload.records >= config.roll_records ||
        part.upload.bytes >= config.roll_bytes ||
        age >= config.roll_seconds * 1000
      ) {
        await completeOpen();
      }
      return result;
    },
    async writeIdempotent(records, commit: CommitScope) {
      guard();
      if (!open && records.length === 0) {
        pendingCommit = { scope: commit.scope, token: commit.token };
        return;
      }
      pendingCommit = undefined;
      if (!open) {
        await ensureCleanup();
        const marker = await markers.read(commit.scope);
        // The same first token as the part a crashed attempt was writing: the same key.
        const key =
          marker?.inflight?.token === commit.token ? marker.inflight.key : keyFor(tokenSeq(commit.token));
        await markers.write({
          scope: commit.scope,
          ...(marker?.committed ? { committed: marker.committed } : {}),
          inflight: { token: commit.token, key },
        });
        open = { ...openPart(key), scope: commit.scope };
      }
      const part = open;
      const result = await append(part, records);
      part.lastToken = commit.token;
      return result;
    },
    async lastCommittedToken(scope) {
      return (await markers.read(scope))?.committed;
    },
    async flush() {
      await completeOpen();
      if (pendingCommit) {
        const { scope, token } = pendingCommit;
        pendingCommit = undefined;
        await markers.write({ scope, committed: token });
      }
    },
    async close(outcome?: CloseOutcome) {
      if (closed) return;
      closed = true;
      try {
        if (open && outcome?.status === 'ok') await completeOpen();
        else if (open) {
          const part = open;
          open = undefined;
          await part.upload.abort();
        }
      } finally {
        if (!options.client) client.destroy();
      }
    },
  };
}
