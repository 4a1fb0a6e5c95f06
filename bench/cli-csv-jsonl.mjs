#!/usr/bin/env node
/**
 * Scenario A (ARCHITECTURE §11): CSV -> JSONL through the real `faucet run` process, with the file
 * state store, exactly as a user runs it.
 *
 *   node bench/cli-csv-jsonl.mjs --rows 1000000 --runs 3 [--batch 1000] [--fsync true] [--checkpoint-every 1s]
 *
 * The dataset comes from bench/generate.mjs (seed 42) and is generated once into bench/results/.
 * Every run starts from an empty output and state directory. Wall time covers the whole CLI
 * process (start-up included); peak RSS is the CLI process's own max RSS, written by a tiny
 * preloaded exit hook (bench/rss-probe.mjs). Prints rows/s (median) and peak RSS (max).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const cli = join(repo, 'apps', 'cli', 'dist', 'bin.js');

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    batch: { type: 'string', default: '1000' },
    fsync: { type: 'string', default: 'true' },
    'checkpoint-every': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
const runs = Number(values.runs);

if (!existsSync(cli)) throw new Error(`${cli} is missing: run pnpm build first`);

const data = join(here, 'results', `data-${rows}.csv`);
if (!existsSync(data)) {
  const gen = spawnSync(
    process.execPath,
    [join(here, 'generate.mjs'), '--rows', String(rows), '--seed', '42', '--out', data],
    {
      stdio: 'inherit',
    },
  );
  if (gen.status !== 0) throw new Error('dataset generation failed');
}

const results = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'faucet-bench-a-'));
  const rssFile = join(dir, 'rss');
  writeFileSync(
    join(dir, 'pipeline.yaml'),
    [
      'version: 1',
      'name: bench_a',
      'pipeline:',
      `  source: { type: file, config: { path: ${JSON.stringify(data)}, format: csv } }`,
      `  sink: { type: file, config: { path: ./out.jsonl, format: jsonl, fsync: ${values.fsync} } }`,
      '  state: { type: file, config: { path: ./state } }',
      `  batch_size: ${Number(values.batch)}`,
      ...(values['checkpoint-every'] ? [`  checkpoint_every: ${values['checkpoint-every']}`] : []),
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
      env: { ...process.env, FAUCET_BENCH_RSS_FILE: rssFile },
    },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.status !== 0) throw new Error(`faucet run failed (${run.status}):\n${run.stderr}`);
  const summary = JSON.parse(run.stdout);
  const written = summary.records_written;
  if (written !== rows) throw new Error(`expected ${rows} records written, got ${written}: ${run.stdout}`);
  results.push({
    seconds,
    rowsPerSec: rows / seconds,
    peakRssMiB: Number(readFileSync(rssFile, 'utf8')) / 1024,
  });
  rmSync(dir, { recursive: true, force: true });
}

const rates = results.map((r) => r.rowsPerSec).sort((a, b) => a - b);
const summary = {
  scenario: 'A: CSV -> JSONL through faucet run (file state)',
  rows,
  batch: Number(values.batch),
  fsync: values.fsync,
  checkpointEvery: values['checkpoint-every'] ?? 'every page',
  runs,
  medianRowsPerSec: Math.round(rates[Math.floor(rates.length / 2)]),
  peakRssMiB: Math.round(Math.max(...results.map((r) => r.peakRssMiB)) * 10) / 10,
  seconds: results.map((r) => Math.round(r.seconds * 100) / 100),
};
if (values.json) console.log(JSON.stringify(summary));
else {
  console.log(
    `${summary.scenario}: ${rows.toLocaleString('en')} rows, batch ${summary.batch}, fsync ${summary.fsync}, checkpoints ${summary.checkpointEvery}, ${runs} runs`,
  );
  console.log(
    `  median ${summary.medianRowsPerSec.toLocaleString('en')} rows/s, peak RSS ${summary.peakRssMiB} MiB, runs ${summary.seconds.join(' s, ')} s`,
  );
}
