#!/usr/bin/env node
/**
 * One large JSON Lines object through `faucet run` (S3 source -> file sink on /dev/null): the object
 * is generated and uploaded as a stream (multipart, 64 MiB parts, never whole in memory), then the
 * CLI reads it through; prints its rows/s and peak RSS (bench/rss-probe.mjs) beside a 4 MiB object's.
 *
 *   eval "$(bash scripts/services.sh env)"; pnpm build
 *   node bench/s3-big-object.mjs --mib 2048 [--batch 1000]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(resolve(here, '..'), 'apps', 'cli', 'dist', 'bin.js');
const { values } = parseArgs({
  options: { mib: { type: 'string', default: '2048' }, batch: { type: 'string', default: '1000' } },
});
const endpoint = process.env.FAUCET_TEST_S3_ENDPOINT;
if (!endpoint) throw new Error('FAUCET_TEST_S3_ENDPOINT is not set: eval "$(bash scripts/services.sh env)"');
const s3 = new S3Client({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: {
    accessKeyId: process.env.FAUCET_TEST_S3_ACCESS_KEY_ID,
    secretAccessKey: process.env.FAUCET_TEST_S3_SECRET_ACCESS_KEY,
  },
});
const bucket = `big-${Date.now().toString(36)}`;
await s3.send(new CreateBucketCommand({ Bucket: bucket }));

/** Upload `bytes` of JSON Lines as `key`, one 64 MiB part at a time; returns the rows written. */
export async function uploadJsonl(key, bytes) {
  const PART = 64 * 1024 * 1024;
  const pad = 'x'.repeat(150);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const parts = [];
  let id = 0;
  let sent = 0;
  while (sent < bytes) {
    const lines = [];
    let size = 0;
    const want = Math.min(PART, bytes - sent);
    while (size < want) {
      const line = `{"id":${++id},"name":"row-${id}","pad":"${pad}"}\n`;
      lines.push(line);
      size += line.length;
    }
    const PartNumber = parts.length + 1;
    const { ETag } = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber,
        Body: Buffer.from(lines.join('')),
      }),
    );
    parts.push({ PartNumber, ETag });
    sent += size;
  }
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
  return id;
}

function readThrough(key, rows) {
  const dir = mkdtempSync(join(tmpdir(), 'faucet-bench-big-'));
  const rssFile = join(dir, 'rss');
  writeFileSync(
    join(dir, 'pipeline.yaml'),
    `version: 1
name: big
pipeline:
  source: { type: s3, config: { bucket: ${bucket}, endpoint_url: "${endpoint}", prefix: "${key}", access_key_id: "\${env:FAUCET_TEST_S3_ACCESS_KEY_ID}", secret_access_key: "\${env:FAUCET_TEST_S3_SECRET_ACCESS_KEY}" } }
  sink: { type: file, config: { path: /dev/null, format: jsonl, fsync: false } }
  batch_size: ${Number(values.batch)}
  checkpoint_every: 5s
  state: { type: file, config: { path: ./state } }
`,
  );
  const started = process.hrtime.bigint();
  const run = spawnSync(
    process.execPath,
    ['--import', join(here, 'rss-probe.mjs'), cli, 'run', 'pipeline.yaml', '-o', 'json'],
    {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        FAUCET_BENCH_RSS_FILE: rssFile,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.status !== 0) throw new Error(`faucet run failed:\n${run.stderr}`);
  const written = JSON.parse(run.stdout).records_written;
  if (written !== rows) throw new Error(`${written} rows read, expected ${rows}`);
  const peak = Number(readFileSync(rssFile, 'utf8')) / 1024;
  rmSync(dir, { recursive: true, force: true });
  return { seconds, peak };
}

const mib = Number(values.mib);
const smallRows = await uploadJsonl('small.jsonl', 4 * 1024 * 1024);
const t0 = Date.now();
const bigRows = await uploadJsonl('big.jsonl', mib * 1024 * 1024);
console.log(
  `uploaded ${mib} MiB (${bigRows.toLocaleString('en')} rows) in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
);
const small = readThrough('small.jsonl', smallRows);
const big = readThrough('big.jsonl', bigRows);
console.log(`4 MiB object:    peak RSS ${small.peak.toFixed(0)} MiB`);
console.log(
  `${mib} MiB object: ${Math.round(bigRows / big.seconds).toLocaleString('en')} rows/s, ` +
    `${(mib / big.seconds).toFixed(1)} MiB/s, peak RSS ${big.peak.toFixed(0)} MiB (${big.seconds.toFixed(0)} s)`,
);
