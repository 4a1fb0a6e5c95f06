#!/usr/bin/env node
/**
 * JSONL -> BigQuery: the seeded dataset (bench/generate.mjs, as JSON lines) read by
 * @faucet/source-file and written by @faucet/sink-bigquery through runPipeline, against a counting
 * stand-in of BigQuery's REST API in its own process (it parses nothing, answers at once), so the
 * figures are the sink's own cost: conversion to the table's columns, serialisation, insertAll
 * request building (insert_all) or NDJSON staging on disk and the upload (load).
 *
 *   pnpm build && node bench/jsonl-bigquery.mjs --rows 1000000 --rounds 3 [--json]
 *
 * Each round runs, in this order, the baseline (the same source into @faucet/sink-file, jsonl),
 * insert_all and load, each in a fresh child process; figures are the median rows/s and the max
 * peak RSS over the rounds. load checkpoints every 2 s (`checkpointEveryMs`), so a load job takes
 * a rolling group of pages, as `checkpoint_every` does in a pipeline file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { recordBlocks } from './generate.mjs';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    server: { type: 'boolean', default: false },
    child: { type: 'string' },
    port: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
const self = fileURLToPath(import.meta.url);
const here = dirname(self);
const data = join(here, 'results', `data-${rows}.jsonl`);

const FIELDS = [
  { name: 'id', type: 'INT64', mode: 'REQUIRED' },
  { name: 'first_name', type: 'STRING' },
  { name: 'country', type: 'STRING' },
  { name: 'amount', type: 'NUMERIC' },
  { name: 'created_at', type: 'TIMESTAMP' },
  { name: 'active', type: 'BOOL' },
  { name: 'attributes', type: 'JSON' },
];

/** The stand-in: tables.get, insertAll, the upload endpoint and jobs.get; it counts rows and bytes. */
function serve() {
  const counts = { insertAllRows: 0, loadedRows: 0, requests: 0 };
  const json = (res, body) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer(async (req, res) => {
    counts.requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/stats') return json(res, counts);
    // Rows are counted by a marker each carries once, across chunk boundaries.
    const marker = url.pathname.startsWith('/upload/') ? '{"id":' : '"insertId"';
    let found = 0;
    let tail = Buffer.alloc(0);
    for await (const chunk of req) {
      const buf = Buffer.concat([tail, chunk]);
      for (let i = buf.indexOf(marker); i !== -1; i = buf.indexOf(marker, i + 1)) found++;
      tail = buf.subarray(Math.max(0, buf.length - marker.length + 1));
    }
    const path = url.pathname;
    if (path.endsWith('/insertAll')) {
      counts.insertAllRows += found;
      return json(res, { kind: 'bigquery#tableDataInsertAllResponse' });
    }
    if (path.startsWith('/upload/')) {
      counts.loadedRows += found;
      const jobId = `bench_${counts.requests}`;
      return json(res, {
        jobReference: { projectId: 'bench', jobId, location: 'US' },
        status: { state: 'DONE' },
      });
    }
    if (/\/jobs\/[^/]+$/.test(path)) return json(res, { status: { state: 'DONE' } });
    if (/\/tables\/[^/]+$/.test(path)) return json(res, { schema: { fields: FIELDS }, creationTime: '1' });
    res.writeHead(404).end(JSON.stringify({ error: { code: 404, message: `no ${path}` } }));
  });
  // Connections idle between runs must not be closed under a client that is about to reuse them.
  server.keepAliveTimeout = 600_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
}

async function writeJsonl() {
  await mkdir(dirname(data), { recursive: true });
  const out = createWriteStream(data);
  for (const block of recordBlocks({ rows, seed: 42 })) {
    let text = '';
    for (const record of block) text += `${JSON.stringify(record)}\n`;
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await finished(out);
}

async function child(kind, port) {
  const { runPipeline } = await import('@faucet/core');
  const { createFileSource, fileSourceConfigSchema } = await import('@faucet/source-file');
  const source = createFileSource(fileSourceConfigSchema.parse({ path: data, format: 'jsonl' }));
  const dir = mkdtempSync(join(tmpdir(), 'faucet-bench-bq-'));
  let sink;
  if (kind === 'baseline') {
    const { createFileSink, fileSinkConfigSchema } = await import('@faucet/sink-file');
    sink = createFileSink(fileSinkConfigSchema.parse({ path: join(dir, 'out.jsonl'), format: 'jsonl' }));
  } else {
    const { createBigQuerySink } = await import('@faucet/sink-bigquery');
    sink = createBigQuerySink({
      project_id: 'bench',
      dataset_id: 'bench',
      table_id: 'rows',
      auth: { type: 'none' },
      api_endpoint: `http://127.0.0.1:${port}`,
      write_method: kind,
      staging_dir: dir,
      job_poll_ms: 10,
    });
  }
  try {
    const started = process.hrtime.bigint();
    const result = await runPipeline({
      source,
      sink,
      batchSize: 1000,
      ...(kind === 'load' ? { checkpointEveryMs: 2000 } : {}),
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const peakRssMiB = process.resourceUsage().maxRSS / 1024;
    if (result.status !== 'ok' || result.recordsWritten !== rows) {
      throw new Error(`bench run failed: ${result.status} ${result.recordsWritten} ${result.error?.message}`);
    }
    process.stdout.write(JSON.stringify({ seconds, rowsPerSec: rows / seconds, peakRssMiB }));
  } finally {
    await sink.close?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function stats(port) {
  const res = await fetch(`http://127.0.0.1:${port}/stats`, { headers: { connection: 'close' } });
  return res.json();
}

async function main() {
  if (!existsSync(data)) await writeJsonl();
  const server = spawn(process.execPath, [self, '--server'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(String(d).trim())));
  const kinds = ['baseline', 'insert_all', 'load'];
  const results = Object.fromEntries(kinds.map((k) => [k, []]));
  try {
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const kind of kinds) {
        const before = await stats(port);
        const out = spawnSync(
          process.execPath,
          [self, '--child', kind, '--port', port, '--rows', String(rows)],
          {
            encoding: 'utf8',
          },
        );
        if (out.status !== 0) throw new Error(`${kind} child failed:\n${out.stderr}`);
        const after = await stats(port);
        const received =
          kind === 'insert_all'
            ? after.insertAllRows - before.insertAllRows
            : kind === 'load'
              ? after.loadedRows - before.loadedRows
              : rows;
        if (received !== rows)
          throw new Error(`${kind}: the stand-in received ${received} rows, not ${rows}`);
        results[kind].push(JSON.parse(out.stdout));
      }
    }
  } finally {
    server.kill();
  }
  const median = (list) => {
    const sorted = list.map((r) => r.rowsPerSec).sort((a, b) => a - b);
    return Math.round(sorted[Math.floor(sorted.length / 2)]);
  };
  const summary = kinds.map((kind) => ({
    scenario: kind === 'baseline' ? 'JSONL -> JSONL file (baseline)' : `JSONL -> BigQuery ${kind}`,
    rows,
    rounds: results[kind].length,
    medianRowsPerSec: median(results[kind]),
    peakRssMiB: Math.round(Math.max(...results[kind].map((r) => r.peakRssMiB)) * 10) / 10,
  }));
  if (values.json) console.log(JSON.stringify(summary));
  else {
    for (const s of summary) {
      console.log(
        `${s.scenario}: ${s.rows.toLocaleString('en')} rows, ${s.rounds} rounds: median ` +
          `${s.medianRowsPerSec.toLocaleString('en')} rows/s, peak RSS ${s.peakRssMiB} MiB`,
      );
    }
  }
}

if (values.server) serve();
else if (values.child) await child(values.child, values.port);
else await main();
