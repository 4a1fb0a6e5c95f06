/**
 * What every part of the S3 source shares: the client, the key filter, the source identity, option
 * builders for listing and reading objects, error mapping and the stored-bookmark check.
 */
import { createS3Client, endpointName, keyFilter, mapS3Error } from '@faucet/common-s3';
import { ConfigError, type JsonValue, type Logger, SourceError } from '@faucet/core';
import { fileFormatFromPath, resolveCompression } from '@faucet/formats';
import { parseBookmark, type S3Bookmark } from './bookmark.js';
import type { S3SourceConfig } from './config.js';
import type { ListOptions } from './listing.js';
import { type ObjectReaderOptions, s3Url } from './objects.js';
import type { ObjectFormat, ReadObjectOptions } from './read-object.js';
import type { S3SourceOptions, S3SourceProgress } from './source.js';

export type SourceParts = ReturnType<typeof createSourceParts>;

export function createSourceParts(config: S3SourceConfig, options: S3SourceOptions) {
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
    const format = config.format ?? fileFormatFromPath(key);
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
  const objectOptions = (
    key: string,
    pageSize: number,
    signal?: AbortSignal,
    skipInvalid = false,
  ): ReadObjectOptions => {
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
        maxRecordBytes: config.max_record_bytes,
        skipInvalid,
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

  return {
    client,
    endpoint,
    bucket,
    filter,
    identity,
    progress,
    fail,
    listOptions,
    formatOf,
    objectOptions,
    noObjects,
    storedPosition,
  };
}
