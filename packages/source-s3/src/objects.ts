/**
 * Reading one object: as a byte stream (text formats; from a byte offset with a Range request when
 * it is not compressed) or by ranges (Parquet). Every request carries `If-Match: <ETag>` from the
 * listing, so an object rewritten since is never mixed with its old version: it answers 412, and a
 * deleted one 404; both surface as `ObjectGone` for the source to skip (the new version, if any, is
 * listed again with its new LastModified).
 */
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isNotFound, isPreconditionFailed } from '@faucet/common-s3';
import type { ParquetInput } from '@faucet/formats';
import type { ObjectInfo } from './bookmark.js';

/** The object was deleted (404) or rewritten (412) between listing and reading. */
export class ObjectGone extends Error {
  constructor(
    readonly key: string,
    readonly reason: 'deleted' | 'changed',
  ) {
    super(`s3 object ${key} was ${reason} after it was listed`);
  }
}

export interface ObjectReaderOptions {
  client: S3Client;
  bucket: string;
  signal?: AbortSignal;
  /** Maps any other error (the caller names endpoint and bucket). */
  onError: (error: unknown, action: string) => never;
}

export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

async function get(options: ObjectReaderOptions, object: ObjectInfo, range: string | undefined) {
  try {
    return await options.client.send(
      new GetObjectCommand({
        Bucket: options.bucket,
        Key: object.key,
        ...(object.etag ? { IfMatch: object.etag } : {}),
        ...(range ? { Range: range } : {}),
      }),
      options.signal ? { abortSignal: options.signal } : {},
    );
  } catch (error) {
    if (isNotFound(error)) throw new ObjectGone(object.key, 'deleted');
    if (isPreconditionFailed(error)) throw new ObjectGone(object.key, 'changed');
    return options.onError(error, `reading ${s3Url(options.bucket, object.key)}`);
  }
}

/** The object's bytes from `start` (0: all of it) as a Node stream. */
export async function openObject(
  options: ObjectReaderOptions,
  object: ObjectInfo,
  start = 0,
): Promise<Readable> {
  if (start > 0 && start >= object.size) {
    const { Readable } = await import('node:stream');
    return Readable.from([]);
  }
  const response = await get(options, object, start > 0 ? `bytes=${start}-` : undefined);
  return response.Body as Readable;
}

/** Ranged reads of one object, for Parquet. */
export function objectInput(options: ObjectReaderOptions, object: ObjectInfo): ParquetInput {
  return {
    byteLength: object.size,
    async read(start, end) {
      if (end <= start) return new Uint8Array(0);
      const response = await get(options, object, `bytes=${start}-${end - 1}`);
      const body = response.Body as { transformToByteArray(): Promise<Uint8Array> };
      return body.transformToByteArray();
    },
  };
}
