#!/usr/bin/env node
/**
 * Scenario A side by side (issue 18): the same CSV -> JSONL conversion by
 *   - `faucet run` with the defaults (file state, sink fsync on, a durable checkpoint every page),
 *   - `faucet run` with `checkpoint_every: 1s`,
 *   - the bare Node converter (bench/bare-convert.mjs: no state, no fsync),
 *   - faucet-stream's `faucet run` (Rust), when a binary is given,
 *   - optionally another faucet build (`--cli-baseline path/to/apps/cli/dist/bin.js`).
 * Rounds are interleaved (each round runs every command once, in turn), so a machine whose speed
 * drifts moves all of them alike; each command's median wall time is compared with the bare
 * converter's. Every output is compared byte for byte with the bare converter's.
 *
 *   node bench/side-by-side.mjs --rows 1000000 --rounds 3 [--faucet-stream PATH] [--cli-baseline PATH]
 *   FAUCET_STREAM_BIN=PATH node bench/side-by-side.mjs ...
 *
 * Wall time covers the whole process (start-up included); peak RSS is the process's own max RSS
 * (bench/rss-probe.mjs preloaded into the Node ones: a Node parent's RSS would carry over into
 * `/usr/bin/time`'s figure; faucet-stream runs under /usr/bin/time, a small C parent).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const cli = join(repo, 'apps', 'cli', 'dist', 'bin.js');

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    'faucet-stream': { type: 'string' },
    'cli-baseline': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
const rounds = Number(values.rounds);
const faucetStream = values['faucet-stream'] ?? process.env.FAUCET_STREAM_BIN;
if (!existsSync(cli)) throw new Error(`${cli} is missing: run pnpm build first`);

const data = join(here, 'results', `data-${rows}.csv`);
if (!existsSync(data)) {
  const args = [join(here, 'generate.mjs'), '--rows', String(rows), '--seed', '42', '--out', data];
  if (spawnSync(process.execPath, args, { stdio: 'inherit' }).status !== 0)
    throw new Error('generation failed');
}

const pipeline = (extra) =>
  [
    'version: 1',
    'name: bench_a',
    'pipeline:',
    `  source: { type: file, config: { path: ${JSON.stringify(data)}, format: csv } }`,
    '  sink: { type: file, config: { path: ./out.jsonl, format: jsonl, fsync: true } }',
    '  state: { type: file, config: { path: ./state } }',
    '  batch_size: 1000',
    ...extra,
    '',
  ].join('\n');

const node = (script, args) => ({
  command: process.execPath,
  args: ['--import', join(here, 'rss-probe.mjs'), script, ...args],
});
const commands = [
  {
    name: 'bare Node converter',
    yaml: undefined,
    ...node(join(here, 'bare-convert.mjs'), [data, 'out.jsonl']),
  },
  {
    name: 'faucet, defaults (checkpoint every page)',
    yaml: pipeline([]),
    ...node(cli, ['run', 'pipeline.yaml', '-o', 'json']),
  },
  {
    name: 'faucet, checkpoint_every: 1s',
    yaml: pipeline(['  checkpoint_every: 1s']),
    ...node(cli, ['run', 'pipeline.yaml', '-o', 'json']),
  },
];
if (values['cli-baseline']) {
  const baseline = resolve(values['cli-baseline']);
  commands.push({
    name: `faucet, defaults, ${baseline}`,
    yaml: pipeline([]),
    ...node(baseline, ['run', 'pipeline.yaml', '-o', 'json']),
  });
}
if (faucetStream) {
  // faucet-stream's pipeline file: the same grammar, its own connector names (`csv` source, `jsonl`
  // sink, each reading and writing pages of 1,000 by default) and its file state store. It runs under
  // /usr/bin/time for its peak RSS (a small C parent: nothing of this process's RSS carries over).
  const yaml = [
    'version: 1',
    'name: bench_a',
    'pipeline:',
    `  source: { type: csv, config: { path: ${JSON.stringify(data)} } }`,
    '  sink: { type: jsonl, config: { path: ./out.jsonl } }',
    '  state: { type: file, config: { path: ./state } }',
    '',
  ].join('\n');
  commands.push({
    name: 'faucet-stream (Rust), defaults',
    yaml,
    command: '/usr/bin/time',
    args: ['-f', '%M', '-o', 'rss-kib', resolve(faucetStream), 'run', 'pipeline.yaml'],
    rssFromTime: true,
  });
} else {
  console.log(
    'faucet-stream: skipped: no faucet-stream binary given (--faucet-stream PATH or FAUCET_STREAM_BIN)',
  );
}

/**
 * The SHA-256 of a file, read in small chunks: this process must stay small, because Linux carries a
 * parent's peak RSS over into the children it forks (ru_maxrss survives fork and exec).
 */
function fileDigest(path) {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

const bare = commands.find((c) => c.name === 'bare Node converter');
let reference;
const times = new Map(commands.map((c) => [c.name, { seconds: [], rssMiB: [] }]));
const loadBefore = loadavg()[0];
for (let round = 0; round < rounds; round++) {
  for (const c of commands) {
    const dir = mkdtempSync(join(tmpdir(), 'faucet-side-'));
    if (c.yaml) writeFileSync(join(dir, 'pipeline.yaml'), c.yaml);
    const rssFile = join(dir, 'rss');
    const started = process.hrtime.bigint();
    const run = spawnSync(c.command, c.args, {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, FAUCET_BENCH_RSS_FILE: rssFile },
      maxBuffer: 64 * 1024 * 1024,
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (run.status !== 0) throw new Error(`${c.name} failed (${run.status}):\n${run.stderr}`);
    const output = fileDigest(join(dir, 'out.jsonl'));
    // The bare converter runs first in every round: its output is the reference.
    if (c === bare) reference ??= output;
    else if (output !== reference) throw new Error(`${c.name}: output differs from the bare converter's`);
    const entry = times.get(c.name);
    entry.seconds.push(seconds);
    const rssKiB = c.rssFromTime ? join(dir, 'rss-kib') : rssFile;
    if (existsSync(rssKiB)) entry.rssMiB.push(Number(readFileSync(rssKiB, 'utf8').trim()) / 1024);
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bareSeconds = median(times.get(bare.name).seconds);
const results = commands.map((c) => {
  const t = times.get(c.name);
  const seconds = median(t.seconds);
  return {
    name: c.name,
    command: [
      c.command === process.execPath ? 'node' : c.command,
      ...c.args.slice(c.command === process.execPath ? 2 : 0),
    ].join(' '),
    medianSeconds: Math.round(seconds * 1000) / 1000,
    rowsPerSec: Math.round(rows / seconds),
    // > 1: faster than the bare converter.
    speedVsBare: Math.round((bareSeconds / seconds) * 100) / 100,
    peakRssMiB: t.rssMiB.length ? Math.round(Math.max(...t.rssMiB) * 10) / 10 : undefined,
    seconds: t.seconds.map((s) => Math.round(s * 100) / 100),
  };
});
const summary = {
  rows,
  rounds,
  cores: cpus().length,
  load: [loadBefore, loadavg()[0]].map((l) => Math.round(l * 10) / 10),
  identicalOutputs: true,
  results,
};
if (values.json) console.log(JSON.stringify(summary, null, 2));
else {
  console.log(
    `scenario A side by side: ${rows.toLocaleString('en')} rows, ${rounds} interleaved rounds, load ${summary.load.join(' -> ')}; outputs byte-identical`,
  );
  for (const r of results) {
    console.log(
      `  ${r.name.padEnd(44)} median ${r.medianSeconds.toFixed(2)} s  ${r.rowsPerSec.toLocaleString('en').padStart(9)} rows/s  ${r.speedVsBare.toFixed(2)}x bare  peak ${r.peakRssMiB ?? '-'} MiB  (${r.seconds.join(', ')} s)`,
    );
  }
}
