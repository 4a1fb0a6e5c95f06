#!/usr/bin/env node
/**
 * CDC -> JSONL scenario: PostgreSQL (wal_level=logical, `scripts/services.sh start`) gets `--changes`
 * inserted rows in `--transactions` transactions; the postgres-cdc source streams them through
 * runPipeline into a JSONL file sink, with a durable file state store (so the slot is confirmed as
 * in production).
 *
 *   pnpm build && eval "$(bash scripts/services.sh env)" &&
 *   node bench/cdc-jsonl.mjs [--changes 1000000] [--transactions 10000] [--batch 1000] [--checkpoint-every <ms>] [--runs 3] [--json]
 *
 * Two measurements, each in a fresh child process (peak RSS per run):
 * - throughput: the changes are written first, then the source drains them: records/s from the
 *   start of the run to the last record written, and peak RSS (median / max over --runs);
 * - lag: the writer and the source run at the same time: how long after the writer's last commit
 *   the last change was in the JSONL file, and the most WAL the slot held back meanwhile.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    changes: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '1000' },
    'checkpoint-every': { type: 'string', default: '0' },
    transactions: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '3' },
    child: { type: 'string' },
    expect: { type: 'string' },
    url: { type: 'string', default: process.env.FAUCET_TEST_POSTGRES_URL },
    json: { type: 'boolean', default: false },
  },
});
const changes = Number(values.changes);
const transactions = Number(values.transactions);
const perTx = Math.ceil(changes / transactions);
const batch = Number(values.batch);
/** Milliseconds between stored checkpoints (runPipeline's checkpointEveryMs); 0: every page. */
const checkpointEvery = Number(values['checkpoint-every']);
const url = values.url;
const self = fileURLToPath(import.meta.url);
const here = (p) => new URL(p, import.meta.url).href;
const { default: pg } = await import('pg');

if (!url) {
  console.error(
    'FAUCET_TEST_POSTGRES_URL is not set: run `bash scripts/services.sh start` and `eval "$(bash scripts/services.sh env)"`',
  );
  process.exit(2);
}

const SCHEMA = 'bench_cdc';
const SLOT = 'bench_cdc_slot';
const PUB = 'bench_cdc_pub';

/** The child: stream until `--expect` records are written, then report. */
async function child(stateDir) {
  const { createFileStateStore, runPipeline } = await import('@faucet/core');
  const { createPostgresCdcSource } = await import(here('../packages/source-postgres-cdc/dist/index.js'));
  const { createFileSink, fileSinkConfigSchema } = await import('@faucet/sink-file');
  const expected = Number(values.expect);
  const dir = mkdtempSync(join(tmpdir(), 'faucet-bench-cdc-'));
  try {
    const inner = createFileSink(
      fileSinkConfigSchema.parse({ path: join(dir, 'out.jsonl'), format: 'jsonl' }),
    );
    let written = 0;
    let lastWriteAt = 0;
    const controller = new AbortController();
    const sink = {
      ...inner,
      async write(records, ctx) {
        const result = await inner.write(records, ctx);
        written += records.length;
        lastWriteAt = Date.now();
        if (written >= expected) controller.abort();
        return result;
      },
      flush: () => inner.flush(),
      close: (o) => inner.close(o),
    };
    const source = createPostgresCdcSource({
      connection_url: url,
      slot_name: SLOT,
      publication_name: PUB,
      snapshot: 'never',
      batch_size: batch,
      idle_timeout: 0,
      heartbeat_interval: 0,
    });
    const started = Date.now();
    const result = await runPipeline({
      source,
      sink,
      state: createFileStateStore({ path: stateDir }),
      batchSize: batch,
      checkpointEveryMs: checkpointEvery,
      signal: controller.signal,
    });
    await sink.close({ status: 'ok' });
    const peakRssMiB = process.resourceUsage().maxRSS / 1024;
    if (result.status === 'failed' || written < expected) {
      throw new Error(
        `bench run failed: ${result.status} ${result.error?.message ?? ''} (${written} of ${expected})`,
      );
    }
    const seconds = (lastWriteAt - started) / 1000;
    process.stdout.write(
      JSON.stringify({
        records: written,
        seconds,
        rowsPerSec: written / seconds,
        peakRssMiB,
        startedAt: started,
        lastWriteAt,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function setup(client) {
  await client.query(
    'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
    [SLOT],
  );
  await client.query(`DROP PUBLICATION IF EXISTS ${PUB}`);
  await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await client.query(`CREATE SCHEMA ${SCHEMA}`);
  await client.query(
    `CREATE TABLE ${SCHEMA}.events (id bigint PRIMARY KEY, name text, email text, amount numeric, active boolean, updated_at timestamptz)`,
  );
  await client.query(`CREATE PUBLICATION ${PUB} FOR TABLE ${SCHEMA}.events`);
  await client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [SLOT]);
}

async function write(client) {
  let id = 0;
  for (let t = 0; t < transactions && id < changes; t++) {
    const from = id + 1;
    const to = Math.min(changes, id + perTx);
    await client.query(
      `INSERT INTO ${SCHEMA}.events SELECT g, 'user ' || g, 'user' || g || '@example.com', g * 0.37, g % 3 = 0, ` +
        `timestamptz '2025-01-01' + g * interval '1 second' FROM generate_series(${from}, ${to}) g`,
    );
    id = to;
  }
}

function runChild(stateDir) {
  const proc = spawn(
    process.execPath,
    [
      // FAUCET_BENCH_PROFILE=<dir>: write a CPU profile of each run there.
      ...(process.env.FAUCET_BENCH_PROFILE
        ? ['--cpu-prof', '--cpu-prof-dir', process.env.FAUCET_BENCH_PROFILE]
        : []),
      self,
      '--child',
      stateDir,
      '--expect',
      String(changes),
      '--batch',
      String(batch),
      '--checkpoint-every',
      String(checkpointEvery),
      '--url',
      url,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  proc.stdout.on('data', (d) => {
    out += d;
  });
  return new Promise((resolve, reject) =>
    proc.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`bench child exited ${code}`)),
    ),
  );
}

async function main() {
  const client = new pg.Client(url);
  await client.connect();
  const runs = Number(values.runs);
  const throughput = [];
  const lags = [];
  try {
    for (let i = 0; i < runs; i++) {
      // Throughput: write first, then drain.
      await setup(client);
      await write(client);
      let stateDir = mkdtempSync(join(tmpdir(), 'faucet-bench-cdc-state-'));
      throughput.push(await runChild(stateDir));
      rmSync(stateDir, { recursive: true, force: true });

      // Lag: write while streaming.
      await setup(client);
      stateDir = mkdtempSync(join(tmpdir(), 'faucet-bench-cdc-state-'));
      const streaming = runChild(stateDir);
      let maxSlotLag = 0;
      let sampling = true;
      const sampler = (async () => {
        const probe = new pg.Client(url);
        await probe.connect();
        while (sampling) {
          const { rows } = await probe.query(
            'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 AS lag FROM pg_replication_slots WHERE slot_name = $1',
            [SLOT],
          );
          maxSlotLag = Math.max(maxSlotLag, Number(rows[0]?.lag ?? 0));
          await new Promise((r) => setTimeout(r, 100));
        }
        await probe.end();
      })();
      const writeStarted = Date.now();
      await write(client);
      const writerDone = Date.now();
      const result = await streaming;
      sampling = false;
      await sampler;
      rmSync(stateDir, { recursive: true, force: true });
      lags.push({
        writerSeconds: (writerDone - writeStarted) / 1000,
        catchUpMs: Math.max(0, result.lastWriteAt - writerDone),
        maxSlotLagMiB: maxSlotLag / 1024 / 1024,
        peakRssMiB: result.peakRssMiB,
      });
    }
  } finally {
    await client.query(
      'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
      [SLOT],
    );
    await client.query(`DROP PUBLICATION IF EXISTS ${PUB}`);
    await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await client.end();
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const summary = {
    scenario: 'Postgres CDC (pgoutput) -> JSONL file',
    changes,
    transactions,
    batch,
    checkpointEveryMs: checkpointEvery,
    runs,
    medianRowsPerSec: Math.round(median(throughput.map((r) => r.rowsPerSec))),
    peakRssMiB:
      Math.round(Math.max(...throughput.map((r) => r.peakRssMiB), ...lags.map((l) => l.peakRssMiB)) * 10) /
      10,
    writerSeconds: Math.round(median(lags.map((l) => l.writerSeconds)) * 10) / 10,
    medianCatchUpMs: Math.round(median(lags.map((l) => l.catchUpMs))),
    maxSlotLagMiB: Math.round(Math.max(...lags.map((l) => l.maxSlotLagMiB)) * 10) / 10,
    node: process.version,
  };
  if (values.json) console.log(JSON.stringify(summary));
  else {
    console.log(
      `${summary.scenario}: ${changes.toLocaleString('en')} changes in ${transactions.toLocaleString('en')} transactions, ${runs} runs`,
    );
    console.log(
      `  drain: median ${summary.medianRowsPerSec.toLocaleString('en')} records/s, peak RSS ${summary.peakRssMiB} MiB`,
    );
    console.log(
      `  live: writer took ${summary.writerSeconds} s; last change in the file ${summary.medianCatchUpMs} ms after the writer's last commit (median); slot held back at most ${summary.maxSlotLagMiB} MiB of WAL`,
    );
  }
}

if (values.child) await child(values.child);
else await main();
