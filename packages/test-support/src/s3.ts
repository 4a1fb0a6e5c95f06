/**
 * The S3 server of `scripts/services.sh` (moto, with authentication on): the gate, the connection
 * settings a connector config needs, and a per-file bucket created before the tests and emptied and
 * deleted after them (aborting multipart uploads left in it).
 */
import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { describeWithService, type ServiceSpec } from '@faucet/testkit';
import { afterAll, beforeAll } from 'vitest';

export const S3_SERVICE: ServiceSpec = {
  service: 'an S3-compatible server',
  variable: 'FAUCET_TEST_S3_ENDPOINT',
  hint: 'run `bash scripts/services.sh start s3 && eval "$(bash scripts/services.sh env)"` at the repository root',
};

/** What a connector config needs to reach the test server (`bucket` added by the caller). */
export interface S3TestConnection {
  endpoint_url: string;
  region: string;
  access_key_id: string;
  secret_access_key: string;
}

export function s3TestConnection(endpoint = process.env.FAUCET_TEST_S3_ENDPOINT ?? ''): S3TestConnection {
  return {
    endpoint_url: endpoint,
    region: process.env.FAUCET_TEST_S3_REGION ?? 'us-east-1',
    access_key_id: process.env.FAUCET_TEST_S3_ACCESS_KEY_ID ?? 'test',
    secret_access_key: process.env.FAUCET_TEST_S3_SECRET_ACCESS_KEY ?? 'test',
  };
}

export function s3TestClient(connection = s3TestConnection()): S3Client {
  return new S3Client({
    endpoint: connection.endpoint_url,
    region: connection.region,
    forcePathStyle: true,
    credentials: { accessKeyId: connection.access_key_id, secretAccessKey: connection.secret_access_key },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** `describe(title, …)` with the endpoint, or a failing / skipped stand-in when there is none. */
export function withS3(title: string, register: (endpoint: string) => void): void {
  describeWithService(S3_SERVICE, title, register);
}

export function randomBucketName(stem: string): string {
  return `${stem
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 40)}-${randomBytes(4).toString('hex')}`;
}

/** Every key in the bucket under `prefix`, in key order. */
export async function listKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }),
    );
    for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Open multipart uploads under `prefix`. */
export async function openUploads(client: S3Client, bucket: string, prefix = '') {
  const page = await client.send(
    new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix || undefined }),
  );
  return (page.Uploads ?? []).map((u) => ({ key: u.Key ?? '', uploadId: u.UploadId ?? '' }));
}

/** Delete every object under `prefix` and abort its multipart uploads. */
export async function emptyBucket(client: S3Client, bucket: string, prefix = ''): Promise<void> {
  for (const upload of await openUploads(client, bucket, prefix)) {
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.key, UploadId: upload.uploadId }),
    );
  }
  const keys = await listKeys(client, bucket, prefix);
  for (let i = 0; i < keys.length; i += 1000) {
    await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
  }
}

export async function putObject(
  client: S3Client,
  bucket: string,
  key: string,
  body: string | Uint8Array,
): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** A bucket of this test file: created in beforeAll, emptied and deleted in afterAll. */
export function useBucket(stem: string): { name: string; client: () => S3Client } {
  const name = randomBucketName(stem);
  let client: S3Client | undefined;
  const get = () => {
    client ??= s3TestClient();
    return client;
  };
  beforeAll(async () => {
    await get().send(new CreateBucketCommand({ Bucket: name }));
  });
  afterAll(async () => {
    if (!client) return;
    await emptyBucket(client, name).catch(() => {});
    await client.send(new DeleteBucketCommand({ Bucket: name })).catch(() => {});
    client.destroy();
  });
  return { name, client: get };
}
