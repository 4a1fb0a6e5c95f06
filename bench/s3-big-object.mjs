#!/usr/bin/env node
/**
 * One large JSON Lines object through `faucet run` (S3 source -> file sink on /dev/null): the object
 * is generated and uploaded as a stream (multipart, 64 MiB parts, never whole in memory), then the
 * CLI reads it through; prints its rows/s and peak RSS (bench/rss-probe.mjs) beside a 4 MiB object's,
 * and, in the same rounds, the big object read with V8's own heap growth policy
 * (FAUCET_HEAP_GROWING_PERCENT=0; see apps/cli/src/heap-policy.ts). The bucket is deleted at the end.
 *
 *   eval "$(bash scripts/services.sh env)"; pnpm build
 *   node bench/s3-big-object.mjs --mib 2048 [--batch 1000] [--runs 1]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(resolve(here, '..'), 'apps', 'cli', 'dist', 'bin.js');
const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '2048' },
    batch: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '1' },
  },
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

function readThrough(key, rows, extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'faucet-bench-big-'));
  const rssFile = join(dir, 'rss');
  const cpuFile = join(dir, 'cpu');
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
        FAUCET_BENCH_CPU_FILE: cpuFile,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...extraEnv,
      },
    },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.status !== 0) throw new Error(`faucet run failed:\n${run.stderr}`);
  const written = JSON.parse(run.stdout).records_written;
  if (written !== rows) throw new Error(`${written} rows read, expected ${rows}`);
  const peak = Number(readFileSync(rssFile, 'utf8')) / 1024;
  const cpu = Number(readFileSync(cpuFile, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  return { seconds, peak, cpu };
}

const mib = Number(values.mib);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const smallRows = await uploadJsonl('small.jsonl', 4 * 1024 * 1024);
  const t0 = Date.now();
  const bigRows = await uploadJsonl('big.jsonl', mib * 1024 * 1024);
  console.log(
    `uploaded ${mib} MiB (${bigRows.toLocaleString('en')} rows) in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
  const rounds = { small: [], big: [], v8: [] };
  for (let round = 1; round <= Number(values.runs); round++) {
    console.log(`round ${round}, load average ${load()}`);
    rounds.small.push(readThrough('small.jsonl', smallRows));
    rounds.big.push(readThrough('big.jsonl', bigRows));
    rounds.v8.push(readThrough('big.jsonl', bigRows, { FAUCET_HEAP_GROWING_PERCENT: '0' }));
  }
  console.log(`load average ${load()}; medians of ${values.runs} round(s):`);
  const line = (label, runs) => {
    const seconds = median(runs.map((r) => r.seconds));
    const peak = median(runs.map((r) => r.peak));
    const cpu = median(runs.map((r) => r.cpu));
    const peaks = runs.map((r) => r.peak.toFixed(0)).join(', ');
    return (
      `${label}: ${Math.round(bigRows / seconds).toLocaleString('en')} rows/s, ${(mib / seconds).toFixed(1)} MiB/s, ` +
      `CPU ${cpu.toFixed(1)} s, peak RSS ${peak.toFixed(0)} MiB (${seconds.toFixed(0)} s; peaks ${peaks})`
    );
  };
  console.log(`4 MiB object: peak RSS ${median(rounds.small.map((r) => r.peak)).toFixed(0)} MiB`);
  console.log(line(`${mib} MiB object`, rounds.big));
  console.log(line(`${mib} MiB object, V8's heap policy`, rounds.v8));
} finally {
  for (const Key of ['small.jsonl', 'big.jsonl']) {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key })).catch(() => {});
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
}
