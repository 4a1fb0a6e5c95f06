#!/usr/bin/env node
/**
 * S3 scenarios through the real `faucet run` process against the S3 server of scripts/services.sh
 * (moto; `eval "$(bash scripts/services.sh env)"` first), interleaved round by round with
 * scenario A (CSV -> JSONL, file to file) as the baseline, all with the same batch size and
 * checkpoint interval:
 *
 *   csv-s3-jsonl      CSV file -> S3, jsonl.gz parts
 *   csv-s3-parquet    CSV file -> S3, Parquet parts (row groups of at most 50,000 rows or ~16 MiB)
 *   csv-s3-parquet-rows  the same with row groups bounded by rows only (parquet_row_group_bytes: 1 GiB)
 *   csv-parquet       CSV file -> Parquet file (file sink, overwrite mode; no S3)
 *   s3-jsonl          S3 (the jsonl.gz parts above, 10 objects) -> JSONL file
 *
 * A scenario name ending in `@v8` runs the CLI with V8's own heap growth policy
 * (FAUCET_HEAP_GROWING_PERCENT=0, see apps/cli/src/heap-policy.ts), e.g. `csv-s3-parquet@v8`.
 *
 *   pnpm build
 *   node bench/s3.mjs --rows 1000000 --runs 3
 *
 * Peak RSS and CPU time are the CLI process's own (bench/rss-probe.mjs). Prints rows/s, CPU seconds
 * and peak RSS (medians; max RSS too) and the load average before and after. CPU time is less
 * disturbed by other work on a shared machine than rows/s. The bench bucket is deleted at the end.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { writeDataset } from './generate.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(resolve(here, '..'), 'apps', 'cli', 'dist', 'bin.js');
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    batch: { type: 'string', default: '5000' },
    'checkpoint-every': { type: 'string', default: '5s' },
    scenarios: {
      type: 'string',
      default:
        'a,csv-s3-jsonl,csv-s3-parquet,csv-s3-parquet-rows,csv-s3-parquet@v8,csv-parquet,csv-parquet@v8,s3-jsonl',
    },
  },
});
const rows = Number(values.rows);
const endpoint = process.env.FAUCET_TEST_S3_ENDPOINT;
if (!endpoint) throw new Error('FAUCET_TEST_S3_ENDPOINT is not set: eval "$(bash scripts/services.sh env)"');
const data = join(here, 'results', `data-${rows}.csv`);
if (!existsSync(data)) await writeDataset({ rows, out: data });
const bucket = `bench-${Date.now().toString(36)}`;
const s3 = new S3Client({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: {
    accessKeyId: process.env.FAUCET_TEST_S3_ACCESS_KEY_ID,
    secretAccessKey: process.env.FAUCET_TEST_S3_SECRET_ACCESS_KEY,
  },
});
await s3.send(new CreateBucketCommand({ Bucket: bucket }));

const s3Config = (extra) =>
  `{ bucket: ${bucket}, endpoint_url: "${endpoint}", access_key_id: "\${env:FAUCET_TEST_S3_ACCESS_KEY_ID}", ` +
  `secret_access_key: "\${env:FAUCET_TEST_S3_SECRET_ACCESS_KEY}", ${extra} }`;
const csvSource = `{ type: file, config: { path: ${JSON.stringify(data)}, format: csv, typed: true } }`;

let round = 0;
function pipeline(name) {
  const scenario = name.replace(/@v8$/, '');
  const tag = `${scenario}-${round}`;
  switch (scenario) {
    case 'a':
      return [csvSource, '{ type: file, config: { path: ./out.jsonl, format: jsonl } }'];
    case 'csv-s3-jsonl':
      return [
        csvSource,
        `{ type: s3, config: ${s3Config(`prefix: "${tag}/", key_template: "part-{seq}{ext}"`)} }`,
      ];
    case 'csv-s3-parquet':
      return [
        csvSource,
        `{ type: s3, config: ${s3Config(`prefix: "${tag}/", key_template: "part-{seq}{ext}", format: parquet`)} }`,
      ];
    case 'csv-s3-parquet-rows':
      return [
        csvSource,
        `{ type: s3, config: ${s3Config(`prefix: "${tag}/", key_template: "part-{seq}{ext}", format: parquet, parquet_row_group_bytes: 1073741824`)} }`,
      ];
    case 'csv-parquet':
      return [csvSource, '{ type: file, config: { path: ./out.parquet, mode: overwrite } }'];
    case 's3-jsonl':
      return [
        `{ type: s3, config: ${s3Config('prefix: "input/"')} }`,
        '{ type: file, config: { path: ./out.jsonl, format: jsonl } }',
      ];
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

function runCli(source, sink, extraLines = [], extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'faucet-bench-s3-'));
  const rssFile = join(dir, 'rss');
  const cpuFile = join(dir, 'cpu');
  writeFileSync(
    join(dir, 'pipeline.yaml'),
    [
      'version: 1',
      'name: bench_s3',
      'pipeline:',
      `  source: ${source}`,
      `  sink: ${sink}`,
      '  state: { type: file, config: { path: ./state } }',
      `  batch_size: ${Number(values.batch)}`,
      `  checkpoint_every: ${values['checkpoint-every']}`,
      ...extraLines,
      '',
    ].join('\n'),
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
        ...extraEnv,
      },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.status !== 0) throw new Error(`faucet run failed (${run.status}):\n${run.stderr}`);
  const summary = JSON.parse(run.stdout);
  const peak = Number(readFileSync(rssFile, 'utf8')) / 1024;
  const cpu = Number(readFileSync(cpuFile, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  return { seconds, written: summary.records_written, peak, cpu };
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const loadBefore = load();
const scenarios = values.scenarios.split(',');
const seen = Object.fromEntries(scenarios.map((s) => [s, []]));
try {
  // The S3 -> JSONL input: the dataset as 10 jsonl.gz objects, written by faucet itself.
  runCli(
    csvSource,
    `{ type: s3, config: ${s3Config(`prefix: "input/", key_template: "part-{seq}{ext}", roll_records: ${Math.ceil(rows / 10)}`)} }`,
    [],
  );
  for (round = 0; round < Number(values.runs); round++) {
    for (const scenario of scenarios) {
      const [source, sink] = pipeline(scenario);
      const env = scenario.endsWith('@v8') ? { FAUCET_HEAP_GROWING_PERCENT: '0' } : {};
      const r = runCli(source, sink, [], env);
      if (r.written !== rows) throw new Error(`${scenario}: ${r.written} rows written, expected ${rows}`);
      seen[scenario].push(r);
      console.error(
        `round ${round + 1} ${scenario}: ${r.seconds.toFixed(1)} s, CPU ${r.cpu.toFixed(1)} s, ${r.peak.toFixed(0)} MiB (load ${load()})`,
      );
    }
  }
} finally {
  await emptyBucket();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `rows ${rows.toLocaleString('en')}, batch ${values.batch}, checkpoint_every ${values['checkpoint-every']}, ${values.runs} rounds; load average ${loadBefore} before, ${load()} after`,
);
for (const scenario of scenarios) {
  const runs = seen[scenario];
  const rate = Math.round(rows / median(runs.map((r) => r.seconds))).toLocaleString('en');
  const cpu = median(runs.map((r) => r.cpu)).toFixed(1);
  const peaks = runs.map((r) => r.peak);
  const peak = `${median(peaks).toFixed(0)} MiB (max ${Math.max(...peaks).toFixed(0)})`;
  const times = runs.map((r) => r.seconds.toFixed(1)).join(', ');
  console.log(
    `${scenario.padEnd(22)} ${rate.padStart(10)} rows/s  CPU ${cpu} s  peak RSS ${peak}  (runs ${times} s)`,
  );
}

/** Delete every object of the bench bucket, then the bucket. */
async function emptyBucket() {
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key }));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
}
