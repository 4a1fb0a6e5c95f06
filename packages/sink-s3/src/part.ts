/**
 * One part file on its way to S3. Bytes are buffered up to `partSize`, then sent as one part of a
 * multipart upload (created with the first full part), so memory holds about one part however large
 * the file grows. `complete()` makes the object visible in one step, with `If-None-Match: *`: a key
 * that already exists (the same part written by an earlier attempt) is never overwritten, and the
 * answer says so. A part smaller than `partSize` is one PutObject. `abort()` discards the upload,
 * so a failed or cancelled part never becomes visible.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { isNotFound, isPreconditionFailed } from '@faucet/common-s3';

export interface PartTarget {
  client: S3Client;
  bucket: string;
  partSize: number;
  contentType: string;
  /** Maps an SDK error (the caller names endpoint and bucket). */
  onError: (error: unknown, action: string) => never;
}

export type CompleteResult = 'created' | 'existed';

export class PartUpload {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private uploadId: string | undefined;
  private readonly parts: { PartNumber: number; ETag: string }[] = [];
  /** Bytes appended so far. */
  bytes = 0;
  records = 0;
  readonly openedAt = Date.now();

  constructor(
    private readonly target: PartTarget,
    readonly key: string,
  ) {}

  private where(): string {
    return `s3://${this.target.bucket}/${this.key}`;
  }

  async append(bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.buffered += bytes.length;
    this.bytes += bytes.length;
    if (this.buffered >= this.target.partSize) await this.sendBuffered();
  }

  private takeBuffered(): Buffer {
    const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    return body;
  }

  private async sendBuffered(): Promise<void> {
    const { client, bucket } = this.target;
    try {
      if (this.uploadId === undefined) {
        const created = await client.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: this.key,
            ContentType: this.target.contentType,
          }),
        );
        this.uploadId = created.UploadId;
      }
      const PartNumber = this.parts.length + 1;
      const sent = await client.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: this.key,
          UploadId: this.uploadId,
          PartNumber,
          Body: this.takeBuffered(),
        }),
      );
      this.parts.push({ PartNumber, ETag: sent.ETag ?? '' });
    } catch (error) {
      this.target.onError(error, `uploading part ${this.parts.length + 1} of ${this.where()}`);
    }
  }

  async complete(): Promise<CompleteResult> {
    const { client, bucket } = this.target;
    try {
      if (this.uploadId === undefined) {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: this.key,
            Body: this.takeBuffered(),
            ContentType: this.target.contentType,
            IfNoneMatch: '*',
          }),
        );
        return 'created';
      }
      if (this.buffered > 0) await this.sendBuffered();
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: this.key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: this.parts },
          IfNoneMatch: '*',
        }),
      );
      this.uploadId = undefined;
      return 'created';
    } catch (error) {
      if (isPreconditionFailed(error)) {
        await this.abort();
        return 'existed';
      }
      return this.target.onError(error, `completing ${this.where()}`);
    }
  }

  /** Discard the part: nothing of it becomes visible. */
  async abort(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    const uploadId = this.uploadId;
    this.uploadId = undefined;
    if (uploadId === undefined) return;
    try {
      await this.target.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.target.bucket, Key: this.key, UploadId: uploadId }),
      );
    } catch (error) {
      if (!isNotFound(error)) this.target.onError(error, `aborting the upload of ${this.where()}`);
    }
  }
}
