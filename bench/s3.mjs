#!/usr/bin/env node
/**
 * S3 scenarios through the real `faucet run` process against the S3 server of scripts/services.sh
 * (moto; `eval "$(bash scripts/services.sh env)"` first), interleaved round by round with
 * scenario A (CSV -> JSONL, file to file) as the baseline, all with the same batch size and
 * checkpoint interval:
 *
 *   csv-s3-jsonl      CSV file -> S3, jsonl.gz parts
 *   csv-s3-parquet    CSV file -> S3, Parquet parts
 *   s3-jsonl          S3 (the jsonl.gz parts above, 10 objects) -> JSONL file
 *
 *   pnpm build
 *   node bench/s3.mjs --rows 1000000 --runs 3
 *
 * Peak RSS is the CLI process's own (bench/rss-probe.mjs). Prints rows/s (median) and peak RSS (max).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { writeDataset } from './generate.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(resolve(here, '..'), 'apps', 'cli', 'dist', 'bin.js');
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    batch: { type: 'string', default: '5000' },
    'checkpoint-every': { type: 'string', default: '5s' },
    scenarios: { type: 'string', default: 'a,csv-s3-jsonl,csv-s3-parquet,s3-jsonl' },
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
function pipeline(scenario) {
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
    case 's3-jsonl':
      return [
        `{ type: s3, config: ${s3Config('prefix: "input/"')} }`,
        '{ type: file, config: { path: ./out.jsonl, format: jsonl } }',
      ];
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

function runCli(source, sink, extraLines = []) {
  const dir = mkdtempSync(join(tmpdir(), 'faucet-bench-s3-'));
  const rssFile = join(dir, 'rss');
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
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.status !== 0) throw new Error(`faucet run failed (${run.status}):\n${run.stderr}`);
  const summary = JSON.parse(run.stdout);
  const peak = Number(readFileSync(rssFile, 'utf8')) / 1024;
  rmSync(dir, { recursive: true, force: true });
  return { seconds, written: summary.records_written, peak };
}

// The S3 -> JSONL input: the dataset as 10 jsonl.gz objects, written by faucet itself.
runCli(
  csvSource,
  `{ type: s3, config: ${s3Config(`prefix: "input/", key_template: "part-{seq}{ext}", roll_records: ${Math.ceil(rows / 10)}`)} }`,
  [],
);

const scenarios = values.scenarios.split(',');
const seen = Object.fromEntries(scenarios.map((s) => [s, []]));
for (round = 0; round < Number(values.runs); round++) {
  for (const scenario of scenarios) {
    const [source, sink] = pipeline(scenario);
    const r = runCli(source, sink);
    if (r.written !== rows) throw new Error(`${scenario}: ${r.written} rows written, expected ${rows}`);
    seen[scenario].push(r);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `rows ${rows.toLocaleString('en')}, batch ${values.batch}, checkpoint_every ${values['checkpoint-every']}, ${values.runs} rounds`,
);
for (const scenario of scenarios) {
  const s = median(seen[scenario].map((r) => r.seconds));
  const peak = Math.max(...seen[scenario].map((r) => r.peak));
  console.log(
    `${scenario.padEnd(16)} ${Math.round(rows / s)
      .toLocaleString('en')
      .padStart(10)} rows/s  peak RSS ${peak.toFixed(0)} MiB  ` +
      `(runs ${seen[scenario].map((r) => r.seconds.toFixed(1)).join(', ')} s)`,
  );
}
