/**
 * Multipart uploads a crashed run left behind (never visible, but billed): listed under the sink's
 * key prefix at the first write and aborted. When the prefix names {pipeline} and {row}, every
 * upload there belongs to this pipeline row, whose state lock keeps other runs out, so all are
 * aborted; otherwise only those older than `abandoned_upload_age_seconds` (another pipeline may be
 * writing there right now). A bucket lifecycle rule (AbortIncompleteMultipartUpload) is the backstop.
 */
import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { isNotFound } from '@faucet/common-s3';
import type { Logger } from '@faucet/core';

export interface CleanupOptions {
  client: S3Client;
  bucket: string;
  prefix: string;
  /** Every upload under the prefix is this sink's. */
  owned: boolean;
  maxAgeMs: number;
  now: number;
  logger: Logger;
  onError: (error: unknown, action: string) => never;
}

/** Abort abandoned uploads; returns how many. */
export async function abortAbandonedUploads(options: CleanupOptions): Promise<number> {
  const { client, bucket, prefix } = options;
  let aborted = 0;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    let page: ListMultipartUploadsCommandOutput | undefined;
    try {
      page = await client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: prefix || undefined,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
    } catch (error) {
      options.onError(error, `listing unfinished uploads under s3://${bucket}/${prefix}`);
    }
    const listed = page as ListMultipartUploadsCommandOutput;
    for (const upload of listed.Uploads ?? []) {
      const age = options.now - (upload.Initiated?.getTime() ?? 0);
      if (!options.owned && age < options.maxAgeMs) continue;
      try {
        await client.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
        );
        aborted++;
      } catch (error) {
        if (!isNotFound(error)) options.onError(error, `aborting the upload of s3://${bucket}/${upload.Key}`);
      }
    }
    if (!listed.IsTruncated) break;
    keyMarker = listed.NextKeyMarker;
    uploadIdMarker = listed.NextUploadIdMarker;
  }
  if (aborted > 0) {
    options.logger.info('aborted multipart uploads an earlier run left unfinished', { prefix, aborted });
  }
  return aborted;
}
