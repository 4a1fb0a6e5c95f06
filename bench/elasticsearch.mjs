#!/usr/bin/env node
/**
 * JSONL -> Elasticsearch: `faucet run` (@faucet/source-file -> @faucet/sink-elasticsearch, file state)
 * beside the official client's own `helpers.bulk` (its defaults: 5 MB flushes, 5 requests in flight)
 * streaming the same file into the same kind of index, as the baseline.
 *
 *   eval "$(bash scripts/services.sh env)"       # FAUCET_TEST_ELASTICSEARCH_URL
 *   node bench/elasticsearch.mjs --rows 100000,1000000 --rounds 3 [--batch 1000] [--concurrency 2]
 *
 * The dataset (seed 42, about 300 bytes per document) is generated once into bench/results/. Each
 * run writes into a fresh index (1 shard, 0 replicas, created before the clock starts) that is
 * deleted afterwards. Rounds interleave: for each round, each size, faucet then helpers.bulk, so
 * both see the same machine load. Wall time covers the whole process (start-up included); peak RSS
 * is that process's own max RSS (bench/rss-probe.mjs). Prints the median rows/s and max peak RSS.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { COUNTRIES, EPOCH, FIRST_NAMES, prng, TIERS } from './generate.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const cli = join(repo, 'apps', 'cli', 'dist', 'bin.js');

const LAST_NAMES = ['Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Liskov', 'Thompson', 'Ritchie', 'Hamilton'];
const CITIES = [
  'Springfield',
  'Riverton',
  'Lakeside',
  'Fairview',
  'Greenville',
  'Kingston',
  'Milton',
  'Ashland',
];
const WORDS = [
  'quick',
  'order',
  'repeat',
  'customer',
  'priority',
  'gift',
  'bulk',
  'express',
  'returned',
  'fragile',
];

/** One seeded document of about 300 bytes as JSON. */
function documentLine(i, random, clock) {
  const first = FIRST_NAMES[Math.floor(random() * FIRST_NAMES.length)];
  const last = LAST_NAMES[Math.floor(random() * LAST_NAMES.length)];
  const words = Array.from({ length: 6 }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');
  return JSON.stringify({
    id: i + 1,
    first_name: first,
    last_name: last,
    email: `${first.toLowerCase()}.${last.toLowerCase()}${i + 1}@example.com`,
    country: COUNTRIES[Math.floor(random() * COUNTRIES.length)],
    city: CITIES[Math.floor(random() * CITIES.length)],
    amount: Math.round((1 + random() * 9999) * 100) / 100,
    created_at: new Date(clock).toISOString(),
    active: random() < 0.5,
    attributes: { tier: TIERS[Math.floor(random() * 3)], score: Math.round(random() * 100_000) / 1000 },
    note: words,
  });
}

async function writeDataset(rows, out) {
  await mkdir(dirname(out), { recursive: true });
  const stream = createWriteStream(out);
  const random = prng(42);
  let clock = EPOCH;
  let text = '';
  for (let i = 0; i < rows; i++) {
    clock += 1000 + Math.floor(random() * 89_000);
    text += `${documentLine(i, random, clock)}\n`;
    if (text.length > 1 << 20 || i === rows - 1) {
      if (!stream.write(text)) await once(stream, 'drain');
      text = '';
    }
  }
  stream.end();
  await finished(stream);
}

async function es(url, method, path, body) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  if (!response.ok && response.status !== 404)
    throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** The baseline, run as its own process: helpers.bulk with its defaults over the same file. */
async function helpersChild(url, data, index) {
  const { Client } = await import('@elastic/elasticsearch');
  const client = new Client({ node: url });
  async function* documents() {
    const lines = createInterface({ input: createReadStream(data), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) if (line) yield JSON.parse(line);
  }
  const stats = await client.helpers.bulk({
    datasource: documents(),
    onDocument: () => ({ create: { _index: index } }),
    onDrop: (doc) => {
      throw new Error(`helpers.bulk dropped a document: ${JSON.stringify(doc.error)}`);
    },
  });
  await client.close();
  console.log(JSON.stringify({ written: stats.successful }));
}

function runFaucet(url, data, index, options) {
  const dir = mkdtempSync(join(tmpdir(), 'faucet-bench-es-'));
  writeFileSync(
    join(dir, 'pipeline.yaml'),
    [
      'version: 1',
      'name: bench_es',
      'pipeline:',
      `  source: { type: file, config: { path: ${JSON.stringify(data)}, format: jsonl } }`,
      '  sink:',
      '    type: elasticsearch',
      `    config: { base_url: ${JSON.stringify(url)}, index: ${index}, batch_size: ${options.batch}, concurrency: ${options.concurrency} }`,
      '  state: { type: file, config: { path: ./state } }',
      `  batch_size: ${options.page}`,
      '',
    ].join('\n'),
  );
  const result = timed(dir, [cli, 'run', 'pipeline.yaml', '-o', 'json']);
  rmSync(dir, { recursive: true, force: true });
  return { ...result, written: JSON.parse(result.stdout).records_written };
}

function runHelpers(url, data, index) {
  const dir = mkdtempSync(join(tmpdir(), 'faucet-bench-es-'));
  const result = timed(dir, [
    fileURLToPath(import.meta.url),
    '--child',
    'helpers',
    '--url',
    url,
    '--data',
    data,
    '--index',
    index,
  ]);
  rmSync(dir, { recursive: true, force: true });
  return { ...result, written: JSON.parse(result.stdout).written };
}

function timed(dir, args) {
  const rssFile = join(dir, 'rss');
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ['--import', join(here, 'rss-probe.mjs'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, FAUCET_BENCH_RSS_FILE: rssFile },
    maxBuffer: 64 << 20,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.status !== 0) throw new Error(`${args.join(' ')} failed (${run.status}):\n${run.stderr}`);
  return { seconds, stdout: run.stdout, peakRssMiB: Number(readFileSync(rssFile, 'utf8')) / 1024 };
}

async function main() {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '100000,1000000' },
      rounds: { type: 'string', default: '3' },
      batch: { type: 'string', default: '1000' },
      page: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '2' },
      only: { type: 'string' },
      json: { type: 'boolean', default: false },
      child: { type: 'string' },
      url: { type: 'string' },
      data: { type: 'string' },
      index: { type: 'string' },
    },
  });
  if (values.child === 'helpers') return helpersChild(values.url, values.data, values.index);
  const url = process.env.FAUCET_TEST_ELASTICSEARCH_URL;
  if (!url)
    throw new Error('FAUCET_TEST_ELASTICSEARCH_URL is not set: eval "$(bash scripts/services.sh env)"');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run pnpm build first`);
  const sizes = values.rows.split(',').map(Number);
  const modes = values.only ? [values.only] : ['faucet', 'helpers'];
  const options = {
    batch: Number(values.batch),
    page: Number(values.page),
    concurrency: Number(values.concurrency),
  };
  const results = [];
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const rows of sizes) {
      const data = join(here, 'results', `es-docs-${rows}.jsonl`);
      if (!existsSync(data)) await writeDataset(rows, data);
      for (const mode of modes) {
        const index = `faucet-bench-${mode}-${rows}-${round}`;
        await es(url, 'DELETE', `/${index}`);
        await es(url, 'PUT', `/${index}`, { settings: { number_of_shards: 1, number_of_replicas: 0 } });
        const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
        const run = mode === 'faucet' ? runFaucet(url, data, index, options) : runHelpers(url, data, index);
        await es(url, 'POST', `/${index}/_refresh`);
        const count = (await es(url, 'GET', `/${index}/_count`)).count;
        await es(url, 'DELETE', `/${index}`);
        if (run.written !== rows || count !== rows) {
          throw new Error(`${mode} ${rows}: wrote ${run.written}, the index holds ${count}`);
        }
        const result = {
          round,
          rows,
          mode,
          seconds: run.seconds,
          rowsPerSec: rows / run.seconds,
          peakRssMiB: run.peakRssMiB,
          load,
        };
        results.push(result);
        if (!values.json) {
          console.log(
            `round ${round} ${mode.padEnd(7)} ${String(rows).padStart(8)} rows: ${Math.round(result.rowsPerSec)} rows/s, ` +
              `peak RSS ${result.peakRssMiB.toFixed(1)} MiB (load ${load})`,
          );
        }
      }
    }
  }
  const summary = [];
  for (const rows of sizes) {
    for (const mode of modes) {
      const mine = results.filter((r) => r.rows === rows && r.mode === mode);
      const rates = mine.map((r) => r.rowsPerSec).sort((a, b) => a - b);
      summary.push({
        rows,
        mode,
        medianRowsPerSec: Math.round(rates[Math.floor(rates.length / 2)]),
        peakRssMiB: Math.round(Math.max(...mine.map((r) => r.peakRssMiB)) * 10) / 10,
      });
    }
  }
  if (values.json) console.log(JSON.stringify({ options, summary, results }));
  else
    for (const s of summary)
      console.log(`${s.mode} ${s.rows}: median ${s.medianRowsPerSec} rows/s, peak RSS ${s.peakRssMiB} MiB`);
}

await main();
