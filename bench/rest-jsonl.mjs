#!/usr/bin/env node
/**
 * REST -> JSONL scenario: a local node:http server (its own process) serves `--pages` pages of
 * `--page-size` records over page-number pagination; the rest source reads them through
 * runPipeline into a JSONL file sink.
 *
 *   pnpm build && node bench/rest-jsonl.mjs [--pages 100] [--page-size 1000] [--runs 3] [--json]
 *
 * Each run is a fresh child process (peak RSS per run). Prints records/s (median) and peak RSS (max).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    pages: { type: 'string', default: '100' },
    'page-size': { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    server: { type: 'boolean', default: false },
    child: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const pages = Number(values.pages);
const pageSize = Number(values['page-size']);
const self = fileURLToPath(import.meta.url);

function serve() {
  const cache = new Map();
  const body = (page) => {
    if (page < 1 || page > pages) return '{"data":[]}';
    const records = [];
    for (let i = 0; i < pageSize; i++) {
      const id = (page - 1) * pageSize + i + 1;
      records.push({
        id,
        name: `user ${id}`,
        email: `user${id}@example.com`,
        amount: Math.round(id * 37.13) / 100,
        active: id % 3 === 0,
        updated_at: new Date(Date.UTC(2025, 0, 1) + id * 1000).toISOString(),
        tags: ['a', `t${id % 7}`],
      });
    }
    return JSON.stringify({ data: records });
  };
  const server = createServer((req, res) => {
    const page = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('page'));
    let text = cache.get(page);
    if (text === undefined) {
      text = body(page);
      if (cache.size < 8) cache.set(page, text);
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(text);
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
}

async function countLines(path) {
  let lines = 0;
  for await (const chunk of createReadStream(path)) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  return lines;
}

async function child(port) {
  const here = (p) => new URL(p, import.meta.url).href;
  const { runPipeline } = await import('@faucet/core');
  const { createRestSource } = await import(here('../packages/source-rest/dist/index.js'));
  const { createFileSink, fileSinkConfigSchema } = await import('@faucet/sink-file');
  const dir = mkdtempSync(join(tmpdir(), 'faucet-bench-rest-'));
  const path = join(dir, 'out.jsonl');
  try {
    const source = createRestSource({
      base_url: `http://127.0.0.1:${port}`,
      path: '/records',
      records_path: '$.data',
      pagination: { type: 'page_number', page_size: pageSize },
      max_pages: pages + 1,
    });
    const sink = createFileSink(fileSinkConfigSchema.parse({ path, format: 'jsonl' }));
    const started = process.hrtime.bigint();
    const result = await runPipeline({ source, sink, batchSize: 1000 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // Peak RSS of the run itself, before the check below reads the output back.
    const peakRssMiB = process.resourceUsage().maxRSS / 1024;
    const lines = await countLines(path);
    const records = pages * pageSize;
    if (result.status !== 'ok' || lines !== records)
      throw new Error(`bench run failed: ${result.status}, ${lines}`);
    process.stdout.write(JSON.stringify({ records, seconds, rowsPerSec: records / seconds, peakRssMiB }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const server = spawn(
    process.execPath,
    [self, '--server', '--pages', String(pages), '--page-size', String(pageSize)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(String(d).trim())));
  try {
    const runs = Number(values.runs);
    const results = [];
    for (let i = 0; i < runs; i++) {
      const out = spawnSync(
        process.execPath,
        [self, '--child', port, '--pages', String(pages), '--page-size', String(pageSize)],
        { encoding: 'utf8' },
      );
      if (out.status !== 0) throw new Error(`bench child failed:\n${out.stderr}`);
      results.push(JSON.parse(out.stdout));
    }
    const rates = results.map((r) => r.rowsPerSec).sort((a, b) => a - b);
    const summary = {
      scenario: 'REST (page_number, local server) -> JSONL file',
      records: pages * pageSize,
      pages,
      pageSize,
      runs,
      medianRowsPerSec: Math.round(rates[Math.floor(rates.length / 2)]),
      peakRssMiB: Math.round(Math.max(...results.map((r) => r.peakRssMiB)) * 10) / 10,
      node: process.version,
    };
    if (values.json) console.log(JSON.stringify(summary));
    else {
      console.log(
        `${summary.scenario}: ${summary.records.toLocaleString('en')} records, ${pages} pages, ${runs} runs`,
      );
      console.log(
        `  median ${summary.medianRowsPerSec.toLocaleString('en')} records/s, ` +
          `peak RSS ${summary.peakRssMiB} MiB`,
      );
    }
  } finally {
    server.kill();
  }
}

if (values.server) serve();
else if (values.child) await child(values.child);
else await main();
