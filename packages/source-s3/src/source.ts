/**
 * The S3 source: the objects under `prefix` matching `glob`, read in (LastModified, key) order, each
 * one streamed and cut into pages of `batch_size` records. Every page is a checkpoint (its bookmark
 * holds the position inside the object), and each object is a slice: its last page carries the
 * bookmark that moves past it. A resumed run continues inside the object it was reading, if that
 * object still has the same ETag. See bookmark.ts for the listing position.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createS3Client, endpointName, keyFilter, mapS3Error } from '@faucet/common-s3';
import {
  ConfigError,
  type DiscoveredStream,
  type FaucetRecord,
  type JsonObject,
  type JsonValue,
  type Logger,
  type Page,
  type Source,
  type SourceContext,
  SourceError,
  silentLogger,
} from '@faucet/core';
import { formatFromPath, inferSchema, resolveCompression } from '@faucet/formats';
import { ListingPosition, type ObjectInfo, parseBookmark, type S3Bookmark } from './bookmark.js';
import type { S3SourceConfig } from './config.js';
import { type ListOptions, listObjects, nextObjects } from './listing.js';
import { ObjectGone, type ObjectReaderOptions, s3Url } from './objects.js';
import { type ObjectFormat, type ReadObjectOptions, readObject } from './read-object.js';

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

const DISCOVER_SAMPLE = 100;

export function createS3Source(config: S3SourceConfig, options: S3SourceOptions = {}): S3Source {
  const client = options.client ?? createS3Client(config);
  const endpoint = endpointName(config);
  const bucket = config.bucket;
  const filter = keyFilter(config.prefix, config.glob);
  const identity = `s3://${bucket}/${config.prefix}${config.glob === undefined ? '' : `|${config.glob}`}`;
  const progress: S3SourceProgress = { objects: 0, records: 0, bytes: 0, skipped: 0 };
  const fail = (error: unknown, action: string): never => {
    throw mapS3Error(error, {
      endpoint,
      action,
      bucket,
      failure: (message, o) => new SourceError(message, { ...o, connector: 's3' }),
    });
  };
  const listOptions = (signal?: AbortSignal): ListOptions => ({
    client,
    bucket,
    prefix: filter.listPrefix,
    matches: filter.matches,
    ...(signal ? { signal } : {}),
    onError: (error) => fail(error, `listing ${s3Url(bucket, filter.listPrefix)}`),
  });
  const readerOptions = (signal?: AbortSignal): ObjectReaderOptions => ({
    client,
    bucket,
    ...(signal ? { signal } : {}),
    onError: fail,
  });

  const formatOf = (key: string): ObjectFormat => {
    const format = config.format ?? (/\.parquet$/i.test(key) ? 'parquet' : formatFromPath(key));
    if (format === undefined) {
      throw new ConfigError([
        {
          path: 'format',
          message:
            `cannot tell the format of ${s3Url(bucket, key)} from its extension (.csv, .jsonl, .ndjson, .json, ` +
            '.parquet, text ones optionally .gz); set format: csv | jsonl | json | parquet, or narrow glob',
        },
      ]);
    }
    return format;
  };
  const objectOptions = (key: string, pageSize: number, signal?: AbortSignal): ReadObjectOptions => {
    const format = formatOf(key);
    return {
      reader: readerOptions(signal),
      format,
      gzip: format !== 'parquet' && resolveCompression(key, config.compression) === 'gzip',
      csv: {
        delimiter: config.delimiter,
        quote: config.quote,
        hasHeader: config.has_headers,
        typed: config.typed,
        flexible: config.flexible,
        encoding: config.encoding,
      },
      pageSize,
      onBytes: (n) => {
        progress.bytes += n;
      },
    };
  };

  const noObjects = () =>
    new SourceError(
      `no object in ${s3Url(bucket, filter.listPrefix)} at ${endpoint} matches ` +
        `${config.glob === undefined ? `prefix "${config.prefix}"` : `glob "${config.glob}"`}; ` +
        'check bucket, prefix and glob, or set allow_empty: true if an empty listing is expected',
      { connector: 's3' },
    );

  const storedPosition = (value: JsonValue | undefined, logger: Logger): S3Bookmark | undefined => {
    const stored = parseBookmark(value);
    if (stored && stored.source !== identity) {
      logger.warn('the stored bookmark belongs to another bucket, prefix or glob; reading from the start', {
        stored: stored.source,
        now: identity,
      });
      return undefined;
    }
    // Not incremental: a run that reached the end leaves a complete bookmark; the next starts over.
    if (stored?.complete && !config.incremental) return undefined;
    return stored;
  };

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
    let held: FaucetRecord[] | undefined;
    try {
      for await (const batch of readObject(objectOptions(object.key, pageSize, ctx.signal), object, from)) {
        progress.records += batch.records.length;
        if (held) yield { records: held, bookmark: position.bookmark() };
        position.current = batch.progress;
        held = batch.records;
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
    yield { records: held ?? [], bookmark: position.bookmark() };
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

  async function check(): Promise<void> {
    let found = 0;
    try {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: filter.listPrefix || undefined, MaxKeys: 1 }),
      );
      found = page.KeyCount ?? page.Contents?.length ?? 0;
    } catch (error) {
      fail(error, `listing ${s3Url(bucket, filter.listPrefix)}`);
    }
    if (found === 0 && !config.allow_empty) throw noObjects();
  }

  async function discover(): Promise<DiscoveredStream[]> {
    const sample: FaucetRecord[] = [];
    const pass = await nextObjects(listOptions(), () => true, 10);
    for (const object of pass.objects) {
      if (sample.length >= DISCOVER_SAMPLE) break;
      const from = {
        key: object.key,
        etag: object.etag,
        last_modified: object.lastModified,
        offset: 0,
        line: 0,
        row: 0,
      };
      for await (const batch of readObject(objectOptions(object.key, DISCOVER_SAMPLE), object, from)) {
        sample.push(...batch.records.slice(0, DISCOVER_SAMPLE - sample.length));
        if (sample.length >= DISCOVER_SAMPLE) break;
      }
    }
    return [{ name: identity, schema: inferSchema(sample) as JsonObject }];
  }

  async function status(bookmark?: JsonValue): Promise<JsonObject> {
    const stored = storedPosition(bookmark, options.logger ?? silentLogger);
    const position = new ListingPosition(identity, config.lookback_seconds * 1000, stored);
    let matched = 0;
    let pending = 0;
    let pendingBytes = 0;
    for await (const page of listObjects(listOptions())) {
      for (const object of page) {
        matched++;
        if (!position.pending(object)) continue;
        pending++;
        pendingBytes += object.size;
      }
    }
    const facts: JsonObject = {
      source: identity,
      endpoint,
      matched_objects: matched,
      pending_objects: pending,
      pending_bytes: pendingBytes,
    };
    if (stored?.after) {
      facts.last_object = stored.after.key;
      facts.last_modified = new Date(stored.after.last_modified).toISOString();
    }
    if (stored?.current)
      facts.reading = { key: stored.current.key, offset: stored.current.offset, row: stored.current.row };
    return facts;
  }

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
