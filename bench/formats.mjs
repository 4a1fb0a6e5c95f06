#!/usr/bin/env node
/**
 * Formats alone: the seeded CSV dataset -> @faucet/formats CSV decoder -> JSONL encoder -> a file,
 * through a stream with backpressure, no engine in between. The same pipeline with csv-parse as the
 * decoder shows whether the hand-written parser earns its place.
 *
 *   pnpm build
 *   node bench/formats.mjs --rows 1000000 --runs 3                # faucet decoder
 *   node bench/formats.mjs --rows 1000000 --runs 3 --parser csv-parse
 *
 *   node bench/formats.mjs --rows 1000000 --runs 3 --via engine   # + file source/sink + runPipeline
 *   node bench/formats.mjs --rows 1000000 --runs 3 --formats <path to another build's dist/index.js>
 *
 * `--via engine` runs the same rows through @faucet/source-file -> runPipeline -> @faucet/sink-file
 * (JSONL, append, fsync on every checkpoint unless --fsync false, no state store): scenario A
 * without the CLI.
 * The dataset is generated once into bench/results/data-<rows>.csv (bench/generate.mjs, seed 42).
 * Each run is a fresh child process so its peak RSS is its own; prints rows/s (median of runs) and
 * peak RSS (max of runs). Output goes to bench/results/out-<parser>.jsonl (--out to change it).
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { writeDataset } from './generate.mjs';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    batch: { type: 'string', default: '1000' },
    parser: { type: 'string', default: 'faucet' },
    via: { type: 'string', default: 'codecs' },
    fsync: { type: 'string', default: 'true' },
    out: { type: 'string' },
    formats: { type: 'string', default: '@faucet/formats' },
    child: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
const batch = Number(values.batch);
const parser = values.parser;
if (parser !== 'faucet' && parser !== 'csv-parse') throw new Error('--parser is faucet or csv-parse');
const via = values.via;
if (via !== 'codecs' && via !== 'engine') throw new Error('--via is codecs or engine');
if (via === 'engine' && parser !== 'faucet') throw new Error('--via engine uses the faucet parser');
const results = fileURLToPath(new URL('./results/', import.meta.url));
const dataPath = `${results}data-${rows}.csv`;
const outPath = values.out ?? `${results}out-${via === 'engine' ? 'engine' : parser}.jsonl`;
/** `--formats`: another build of @faucet/formats (a path to its dist/index.js), e.g. the code before a change. */
const formatsModule = values.formats.startsWith('@')
  ? values.formats
  : pathToFileURL(resolve(values.formats)).href;
const CHUNK = 64 * 1024; // fs streams' default; larger chunks measured faster by a little but cost RSS

/** Batches of records from the faucet decoder or from csv-parse (grouped into arrays of `batch`). */
async function* batches() {
  const input = createReadStream(dataPath, { highWaterMark: CHUNK });
  if (parser === 'faucet') {
    const { decodeCsv } = await import(formatsModule);
    for await (const b of decodeCsv(input, { batchSize: batch, name: dataPath })) yield b.records;
    return;
  }
  const { parse } = await import('csv-parse');
  let group = [];
  for await (const record of input.pipe(parse({ columns: true, bom: true }))) {
    group.push(record);
    if (group.length === batch) {
      yield group;
      group = [];
    }
  }
  if (group.length > 0) yield group;
}

/** File source -> runPipeline -> file sink, as the CLI would wire them (minus config loading). */
async function throughEngine() {
  const { runPipeline } = await import('@faucet/core');
  const { createFileSource, fileSourceConfigSchema } = await import('@faucet/source-file');
  const { createFileSink, fileSinkConfigSchema } = await import('@faucet/sink-file');
  const { rm } = await import('node:fs/promises');
  await rm(outPath, { force: true });
  const source = createFileSource(fileSourceConfigSchema.parse({ path: dataPath }));
  const sink = createFileSink(fileSinkConfigSchema.parse({ path: outPath, fsync: values.fsync !== 'false' }));
  const result = await runPipeline({ source, sink, batchSize: batch });
  await sink.close({ status: result.status });
  if (result.status !== 'ok') throw result.error ?? new Error(`run ended ${result.status}`);
  return result.recordsWritten;
}

async function child() {
  if (via === 'engine') {
    const started = process.hrtime.bigint();
    const count = await throughEngine();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (count !== rows) throw new Error(`wrote ${count} rows, expected ${rows}`);
    const peakRssMiB = process.resourceUsage().maxRSS / 1024;
    process.stdout.write(JSON.stringify({ rows, seconds, rowsPerSec: rows / seconds, peakRssMiB }));
    return;
  }
  const { encodeJsonlText } = await import(formatsModule);
  const out = createWriteStream(outPath, { highWaterMark: 1024 * 1024 });
  let count = 0;
  const started = process.hrtime.bigint();
  for await (const records of batches()) {
    count += records.length;
    if (!out.write(encodeJsonlText(records))) await once(out, 'drain');
  }
  out.end();
  await finished(out);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (count !== rows) throw new Error(`decoded ${count} rows, expected ${rows}`);
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ rows, seconds, rowsPerSec: rows / seconds, peakRssMiB }));
}

async function main() {
  if (!existsSync(dataPath)) await writeDataset({ rows, seed: 42, out: dataPath });
  const runs = Number(values.runs);
  const all = [];
  for (let i = 0; i < runs; i++) {
    const args = [
      fileURLToPath(import.meta.url),
      '--child',
      '--rows',
      String(rows),
      '--batch',
      String(batch),
    ];
    args.push('--parser', parser, '--via', via, '--fsync', values.fsync, '--out', outPath);
    args.push('--formats', values.formats);
    const res = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`bench child failed:\n${res.stderr}`);
    all.push(JSON.parse(res.stdout));
  }
  const rates = all.map((r) => r.rowsPerSec).sort((a, b) => a - b);
  const summary = {
    scenario:
      via === 'engine'
        ? `CSV -> file source -> runPipeline -> file sink (JSONL, fsync ${values.fsync})`
        : `formats: CSV -> ${parser} decoder -> JSONL encoder -> file`,
    rows,
    batch,
    runs,
    medianRowsPerSec: Math.round(rates[Math.floor(rates.length / 2)]),
    peakRssMiB: Math.round(Math.max(...all.map((r) => r.peakRssMiB)) * 10) / 10,
    node: process.version,
  };
  if (values.json) console.log(JSON.stringify(summary));
  else {
    console.log(`${summary.scenario}: ${rows.toLocaleString('en')} rows, ${runs} runs`);
    console.log(
      `  median ${summary.medianRowsPerSec.toLocaleString('en')} rows/s, peak RSS ${summary.peakRssMiB} MiB`,
    );
  }
}

if (values.child) await child();
else await main();
