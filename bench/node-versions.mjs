#!/usr/bin/env node
/**
 * Scenario A (CSV -> JSONL through `faucet run`, bench/cli-csv-jsonl.mjs) and the engine bench
 * (bench/engine.mjs) on Node 20, 22 and 24, side by side, with peak RSS.
 *
 *   node bench/node-versions.mjs [--rounds 3] [--rows 1000000] [--majors 20,24]
 *
 * Node 22 and 24 come from the npm registry through scripts/node-runtime.sh (cached). Rounds are
 * interleaved: each round runs every variant once, so a change in the machine's load hits them all.
 * Besides each Node as the CLI runs it, two variants show the young-generation limit
 * (apps/cli/src/young-generation.ts): scenario A with FAUCET_V8_DEFAULTS=1 (the CLI leaves V8's
 * defaults alone), and the engine bench with NODE_OPTIONS=--max-semi-space-size=16 (what an
 * embedding program can set). Prints median rows/s and the highest peak RSS per variant.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    rows: { type: 'string', default: '1000000' },
    majors: { type: 'string', default: '20,24' },
    json: { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const rows = values.rows;

const nodes = values.majors.split(',').map((major) => {
  const bin = execFileSync('bash', [join(repo, 'scripts/node-runtime.sh'), major], {
    encoding: 'utf8',
  }).trim();
  return { major: Number(major), bin, version: execFileSync(bin, ['-v'], { encoding: 'utf8' }).trim() };
});

const variants = [];
for (const node of nodes) {
  variants.push({ bench: 'A', node, label: 'as the CLI runs', env: {} });
  if (node.major >= 22)
    variants.push({ bench: 'A', node, label: 'FAUCET_V8_DEFAULTS=1', env: { FAUCET_V8_DEFAULTS: '1' } });
  variants.push({ bench: 'engine', node, label: 'V8 defaults', env: {} });
  if (node.major >= 22) {
    variants.push({
      bench: 'engine',
      node,
      label: 'NODE_OPTIONS=--max-semi-space-size=16',
      env: { NODE_OPTIONS: '--max-semi-space-size=16' },
    });
  }
}

function runOnce(variant) {
  const script =
    variant.bench === 'A'
      ? [join(here, 'cli-csv-jsonl.mjs'), '--rows', rows, '--runs', '1', '--json']
      : ['--expose-gc', join(here, 'engine.mjs'), '--records', rows, '--runs', '1', '--json'];
  const out = spawnSync(variant.node.bin, script, {
    encoding: 'utf8',
    env: { ...process.env, ...variant.env },
    maxBuffer: 16 * 1024 * 1024,
  });
  if (out.status !== 0) throw new Error(`${variant.bench} on ${variant.node.version} failed:\n${out.stderr}`);
  const summary = JSON.parse(out.stdout.trim().split('\n').at(-1));
  return { rowsPerSec: summary.medianRowsPerSec, peakRssMiB: summary.peakRssMiB };
}

const loadBefore = loadavg();
const samples = variants.map(() => []);
for (let round = 0; round < rounds; round++) {
  variants.forEach((variant, i) => {
    samples[i].push(runOnce(variant));
  });
}
const loadAfter = loadavg();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = variants.map((variant, i) => ({
  bench: variant.bench === 'A' ? 'scenario A (faucet run)' : 'engine (runPipeline)',
  node: variant.node.version,
  variant: variant.label,
  medianRowsPerSec: median(samples[i].map((s) => s.rowsPerSec)),
  peakRssMiB: Math.max(...samples[i].map((s) => s.peakRssMiB)),
  rss: samples[i].map((s) => s.peakRssMiB),
}));
if (values.json) {
  console.log(JSON.stringify({ rows: Number(rows), rounds, loadBefore, loadAfter, results }));
} else {
  const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`${Number(rows).toLocaleString('en')} rows, ${rounds} interleaved rounds`);
  console.log(`load average before: ${load(loadBefore)}, after: ${load(loadAfter)}`);
  console.log('| bench | Node | V8 settings | median rows/s | peak RSS (max) | peak RSS per round |');
  console.log('|---|---|---|---:|---:|---|');
  for (const r of results) {
    console.log(
      `| ${r.bench} | ${r.node} | ${r.variant} | ${r.medianRowsPerSec.toLocaleString('en')} | ${r.peakRssMiB} MiB | ${r.rss.join(', ')} |`,
    );
  }
}
