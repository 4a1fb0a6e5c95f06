import { Readable } from 'node:stream';
/** Reading back what an S3 sink wrote: every part file decoded (jsonl/csv, gzip or not, Parquet). */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { FaucetRecord } from '@faucet/core';
import { decodeParquet, decodeRecords, decompressed } from '@faucet/formats';
import { listKeys } from './s3.js';

/** Every record in the visible part files under `prefix` (markers under _faucet/ left out), key order. */
export async function readParts(client: S3Client, bucket: string, prefix: string): Promise<FaucetRecord[]> {
  const out: FaucetRecord[] = [];
  for (const key of await listKeys(client, bucket, prefix)) {
    if (key.includes('_faucet/')) continue;
    out.push(...(await readPart(client, bucket, key)));
  }
  return out;
}

export async function readPart(client: S3Client, bucket: string, key: string): Promise<FaucetRecord[]> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = Buffer.from(
    await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
  const out: FaucetRecord[] = [];
  if (key.endsWith('.parquet')) {
    const input = { byteLength: bytes.length, read: async (s: number, e: number) => bytes.subarray(s, e) };
    for await (const batch of decodeParquet(input, { name: key })) out.push(...batch.records);
    return out;
  }
  const format = key.includes('.csv') ? 'csv' : 'jsonl';
  const plain = decompressed(Readable.from([bytes]), key.endsWith('.gz') ? 'gzip' : 'none');
  for await (const batch of decodeRecords(format, plain, { name: key, typed: true }))
    out.push(...batch.records);
  return out;
}
