#!/usr/bin/env node
/**
 * Engine scenario: an in-memory source generating seeded records lazily -> runPipeline -> a sink
 * that discards. Measures the run loop's own cost (page handling, checkpoints, telemetry hooks).
 *
 *   node --expose-gc bench/engine.mjs [--records 1000000] [--batch 1000] [--runs 5] [--json]
 *
 * Each run happens in a fresh child process so peak RSS is per run. Prints records/s (median of
 * runs) and peak RSS (max of runs).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { COUNTRIES, EPOCH, FIRST_NAMES, prng, TIERS } from './generate.mjs';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '5' },
    child: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const records = Number(values.records);
const batch = Number(values.batch);

async function child() {
  const { runPipeline } = await import('@faucet/core');
  const random = prng(42);
  let clock = EPOCH;
  const source = {
    async *read() {
      for (let offset = 0; offset < records; offset += batch) {
        const end = Math.min(offset + batch, records);
        const page = new Array(end - offset);
        for (let id = offset; id < end; id++) {
          clock += 1000 + Math.floor(random() * 89_000);
          page[id - offset] = {
            id: id + 1,
            first_name: FIRST_NAMES[Math.floor(random() * 16)],
            country: COUNTRIES[Math.floor(random() * 10)],
            amount: Math.round((1 + random() * 9999) * 100) / 100,
            created_at: new Date(clock).toISOString(),
            active: random() < 0.5,
            attributes: {
              tier: TIERS[Math.floor(random() * 3)],
              score: Math.round(random() * 100_000) / 1000,
            },
          };
        }
        yield { records: page, bookmark: { offset: end } };
      }
    },
  };
  let written = 0;
  const sink = {
    async write(rows) {
      written += rows.length;
    },
  };
  const started = process.hrtime.bigint();
  const result = await runPipeline({ source, sink, batchSize: batch });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 'ok' || written !== records)
    throw new Error(`bench run failed: ${result.status}, ${written}`);
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ records, seconds, rowsPerSec: records / seconds, peakRssMiB }));
}

function main() {
  const runs = Number(values.runs);
  const results = [];
  for (let i = 0; i < runs; i++) {
    const out = spawnSync(
      process.execPath,
      [fileURLToPath(import.meta.url), '--child', '--records', String(records), '--batch', String(batch)],
      { encoding: 'utf8' },
    );
    if (out.status !== 0) throw new Error(`bench child failed:\n${out.stderr}`);
    results.push(JSON.parse(out.stdout));
  }
  const rates = results.map((r) => r.rowsPerSec).sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  const peak = Math.max(...results.map((r) => r.peakRssMiB));
  const summary = {
    scenario: 'engine: memory source -> discarding sink',
    records,
    batch,
    runs,
    medianRowsPerSec: Math.round(median),
    peakRssMiB: Math.round(peak * 10) / 10,
    node: process.version,
  };
  if (values.json) console.log(JSON.stringify(summary));
  else {
    console.log(`${summary.scenario}: ${records.toLocaleString('en')} records, batch ${batch}, ${runs} runs`);
    console.log(
      `  median ${summary.medianRowsPerSec.toLocaleString('en')} records/s, peak RSS ${summary.peakRssMiB} MiB`,
    );
  }
}

if (values.child) await child();
else main();
