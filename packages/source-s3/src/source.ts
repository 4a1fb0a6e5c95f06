/**
 * The S3 source: the objects under `prefix` matching `glob`, read in (LastModified, key) order, each
 * one streamed and cut into pages of `batch_size` records. Every page is a checkpoint (its bookmark
 * holds the position inside the object), and each object is a slice: its last page carries the
 * bookmark that moves past it. A resumed run continues inside the object it was reading, if that
 * object still has the same ETag. See bookmark.ts for the listing position.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  type JsonObject,
  type JsonValue,
  type Logger,
  type Page,
  type Source,
  type SourceContext,
  silentLogger,
} from '@faucet/core';
import { ListingPosition, type ObjectInfo } from './bookmark.js';
import type { S3SourceConfig } from './config.js';
import { createSourceParts } from './context.js';
import { inspection } from './inspect.js';
import { nextObjects } from './listing.js';
import { ObjectGone, s3Url } from './objects.js';
import { readObject } from './read-object.js';

export interface S3SourceOptions {
  logger?: Logger;
  /** An S3 client to use instead of one made from the config (tests; custom middleware). */
  client?: S3Client;
}

export interface S3SourceProgress {
  /** Objects opened, records decoded and bytes received by this instance (diagnostics). */
  objects: number;
  records: number;
  bytes: number;
  /** Objects listed but deleted or rewritten before they were read. */
  skipped: number;
}

export interface S3Source extends Source {
  readonly progress: Readonly<S3SourceProgress>;
  /** Pending objects since `bookmark` (the stored one; none: everything matching). */
  status(bookmark?: JsonValue): Promise<JsonObject>;
}

export function createS3Source(config: S3SourceConfig, options: S3SourceOptions = {}): S3Source {
  const parts = createSourceParts(config, options);
  const {
    client,
    bucket,
    identity,
    progress,
    listOptions,
    formatOf,
    objectOptions,
    storedPosition,
    noObjects,
  } = parts;
  /** The pages of one object; the last carries the bookmark that moves past it. */
  async function* readOne(
    object: ObjectInfo,
    position: ListingPosition,
    ctx: SourceContext,
    pageSize: number,
    logger: Logger,
  ): AsyncGenerator<Page, void, undefined> {
    const from = position.resumeAt(object);
    if (from.offset > 0 || from.row > 0) {
      logger.info('resuming inside an object', {
        object: s3Url(bucket, object.key),
        offset: from.offset,
        row: from.row,
      });
    }
    progress.objects++;
    let held: Page | undefined;
    const options = objectOptions(object.key, pageSize, ctx.signal, ctx.onRecordError === 'dlq');
    try {
      for await (const batch of readObject(options, object, from)) {
        progress.records += batch.records.length;
        if (held) yield { ...held, bookmark: position.bookmark() };
        position.current = batch.progress;
        held = batch.rejected
          ? { records: batch.records, rejected: batch.rejected }
          : { records: batch.records };
      }
    } catch (error) {
      if (!(error instanceof ObjectGone)) throw error;
      progress.skipped++;
      logger.warn(`an object was ${error.reason} between listing and reading; skipped`, {
        object: s3Url(bucket, object.key),
        hint: error.reason === 'changed' ? 'its new version is read when listed again' : 'nothing to read',
      });
      if (held === undefined) return;
    }
    position.complete(object);
    yield { records: [], ...held, bookmark: position.bookmark() };
  }

  async function* read(ctx: SourceContext): AsyncGenerator<Page, void, undefined> {
    const logger = ctx.logger ?? options.logger ?? silentLogger;
    const pageSize = config.batch_size ?? ctx.batchSize;
    const position = new ListingPosition(
      identity,
      config.lookback_seconds * 1000,
      storedPosition(ctx.bookmark, logger),
    );
    let done = 0;
    let first = true;
    for (;;) {
      const pass = await nextObjects(
        listOptions(ctx.signal),
        (o) => position.pending(o),
        config.listing_window,
      );
      if (first && pass.matched === 0 && !config.allow_empty) throw noObjects();
      first = false;
      for (const object of pass.objects) formatOf(object.key);
      // The object a crashed run was inside comes first, so its stored progress is not overwritten.
      const current = position.current;
      const objects = current
        ? [
            ...pass.objects.filter((o) => o.key === current.key),
            ...pass.objects.filter((o) => o.key !== current.key),
          ]
        : pass.objects;
      for (const object of objects) {
        if (ctx.signal.aborted) return;
        yield* readOne(object, position, ctx, pageSize, logger);
        done++;
        if (config.max_objects !== undefined && done >= config.max_objects) return;
      }
      if (!pass.truncated || pass.objects.length === 0) break;
    }
    yield { records: [], bookmark: position.bookmark(true) };
  }

  const { check, discover, status } = inspection(config, options, parts);

  return {
    read,
    check,
    discover,
    status,
    async close() {
      if (!options.client) client.destroy();
    },
    get progress() {
      return progress;
    },
  };
}
