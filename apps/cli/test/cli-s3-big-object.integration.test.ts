// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${env:…} interpolation
/**
 * A large object streams through: the CLI reads a 200 MiB JSON Lines object from S3 (moto) and its
 * peak RSS (bench/rss-probe.mjs) stays within 64 MiB of the peak when it reads a 4 MiB object — a
 * source holding the object would need 200 MiB more. The objects are generated and uploaded part by
 * part (multipart, 16 MiB parts), never whole. The 2 GiB measurement is bench/s3-big-object.mjs
 * (BENCHMARKS.md); no wall-clock assertion here.
 *
 * The `name` values (`row-1` … `row-1086859`) are 10 characters or fewer, so JSON.parse interns each:
 * the worst case for V8's heap growth, which the CLI bounds (src/heap-policy.ts). Without that bound
 * this object peaked ~80 MiB above the small one; with it ~30 MiB.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { s3TestConnection, useBucket, withS3 } from '@faucet/test-support';
import { beforeAll, expect, it } from 'vitest';
import { assertBuilt, REPO_DIR, runCli, tempDir, write } from './helpers.js';

/** Upload about `bytes` of JSON Lines as `key`, 16 MiB at a time; returns the rows. */
async function uploadJsonl(client: S3Client, bucket: string, key: string, bytes: number): Promise<number> {
  const PART = 16 * 1024 * 1024;
  const pad = 'x'.repeat(150);
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const parts: { PartNumber: number; ETag: string }[] = [];
  let id = 0;
  for (let sent = 0; sent < bytes; ) {
    const lines: string[] = [];
    let size = 0;
    while (size < Math.min(PART, bytes - sent)) {
      const line = `{"id":${++id},"name":"row-${id}","pad":"${pad}"}\n`;
      lines.push(line);
      size += line.length;
    }
    const PartNumber = parts.length + 1;
    const { ETag } = await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber,
        Body: Buffer.from(lines.join('')),
      }),
    );
    parts.push({ PartNumber, ETag: ETag ?? '' });
    sent += size;
  }
  await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
  return id;
}

withS3('a large S3 object through faucet run', () => {
  const bucket = useBucket('cli-s3-big');
  beforeAll(() => assertBuilt());

  async function peakRss(key: string, rows: number): Promise<number> {
    const dir = tempDir('faucet-s3-big-');
    const c = s3TestConnection();
    write(
      join(dir, 'pipeline.yaml'),
      `version: 1
name: big
pipeline:
  source: { type: s3, config: { bucket: ${bucket.name}, prefix: ${key}, endpoint_url: "\${env:S3_ENDPOINT}", access_key_id: "\${env:S3_KEY}", secret_access_key: "\${env:S3_SECRET}" } }
  sink: { type: file, config: { path: ./out.jsonl, format: jsonl, fsync: false } }
`,
    );
    const rssFile = join(dir, 'rss');
    const result = await runCli(['run', 'pipeline.yaml', '--output', 'json'], {
      cwd: dir,
      env: {
        S3_ENDPOINT: c.endpoint_url,
        S3_KEY: c.access_key_id,
        S3_SECRET: c.secret_access_key,
        FAUCET_BENCH_RSS_FILE: rssFile,
        NODE_OPTIONS: `--import=${join(REPO_DIR, 'bench', 'rss-probe.mjs')}`,
      },
      timeoutMs: 600_000,
    });
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { records_written: number }).records_written).toBe(rows);
    return Number(readFileSync(rssFile, 'utf8')) / 1024;
  }

  it('reading a 200 MiB object peaks within 64 MiB of reading a 4 MiB one', async () => {
    const client = bucket.client();
    const smallRows = await uploadJsonl(client, bucket.name, 'small.jsonl', 4 * 1024 * 1024);
    const bigRows = await uploadJsonl(client, bucket.name, 'big.jsonl', 200 * 1024 * 1024);
    const small = await peakRss('small.jsonl', smallRows);
    const big = await peakRss('big.jsonl', bigRows);
    console.log(
      `[s3-big-object] peak RSS: 4 MiB object ${small.toFixed(0)} MiB, 200 MiB object ${big.toFixed(0)} MiB`,
    );
    expect(big - small).toBeLessThan(64);
  }, 900_000);
});
