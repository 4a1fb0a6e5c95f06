#!/usr/bin/env node
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${env:…} interpolation
/**
 * `faucet run --queue` (BullMQ) against a local `faucet run`, on the Redis and PostgreSQL of
 * `scripts/services.sh`:
 *
 *   pnpm build && bash scripts/services.sh start postgres redis && eval "$(bash scripts/services.sh env)" &&
 *   node bench/queue.mjs [--part overhead|wall|all] [--rounds 3] [--workers 3] [--concurrency 4]
 *                        [--overhead-rows 1000] [--overhead-local-concurrent 12]
 *                        [--wall-rows 200] [--records 2000] [--wall-source postgres|rest]
 *                        [--latency-ms 50] [--page-size 250] [--json]
 *
 * - overhead: a matrix of --overhead-rows rows, each the file source on a 1-line JSONL into a file
 *   sink of its own (state in PostgreSQL): jobs/s from submit until the submitting command exits
 *   (every job done), on --workers `faucet worker` processes of --concurrency each, against the same
 *   file run by a local `faucet run` with `execution.max_concurrent` --overhead-local-concurrent.
 * - wall: --wall-rows rows, each a PostgreSQL table of --records rows upserted into a keyed
 *   PostgreSQL table (state in PostgreSQL): wall time of a local `faucet run` with
 *   `execution: { max_concurrent: 1 }` against the queue (issue 19 aims at a ratio of at most 0.5).
 *   With --wall-source rest, each row's source is instead the REST source on a local HTTP server of
 *   this script that answers every page of --page-size records after --latency-ms (a remote API's
 *   round trip; 50 ms is a near, fast one): rows that wait on I/O, as the issue's aim describes.
 *
 * Every measurement is the real CLI (apps/cli/bin/faucet.js) in a child process, on a pipeline file
 * with a name of its own (fresh state keys, so nothing resumes from an earlier bookmark); the wall
 * targets are truncated before each measurement. Workers are started once per part, before the
 * clock, and ready (their "taking jobs" line) before the first submit. Local and queue alternate,
 * --rounds rounds; the summary gives the medians and the load average before and after.
 *
 * Cleans up whatever happens: stops its workers (SIGTERM), obliterates its BullMQ queue
 * ("faucet-bench") and deletes its run records, drops its `qbench_` tables, removes its temp dir.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values } = parseArgs({
  options: {
    part: { type: 'string', default: 'all' },
    rounds: { type: 'string', default: '3' },
    workers: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
    'overhead-rows': { type: 'string', default: '1000' },
    'overhead-local-concurrent': { type: 'string', default: '12' },
    'wall-rows': { type: 'string', default: '200' },
    records: { type: 'string', default: '2000' },
    'wall-source': { type: 'string', default: 'postgres' },
    'latency-ms': { type: 'string', default: '50' },
    'page-size': { type: 'string', default: '250' },
    json: { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const workerCount = Number(values.workers);
const concurrency = Number(values.concurrency);
const overheadRows = Number(values['overhead-rows']);
const overheadLocal = Number(values['overhead-local-concurrent']);
const wallRows = Number(values['wall-rows']);
const records = Number(values.records);
const wallSource = values['wall-source'];
const latencyMs = Number(values['latency-ms']);
const pageSize = Number(values['page-size']);
if (wallSource !== 'postgres' && wallSource !== 'rest') {
  console.error(`--wall-source must be postgres or rest, not ${wallSource}`);
  process.exit(2);
}
const QUEUE = 'faucet-bench';
const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'apps', 'cli', 'bin', 'faucet.js');
const redisUrl = process.env.FAUCET_TEST_REDIS_URL;
const pgUrl = process.env.FAUCET_TEST_POSTGRES_URL;
if (!redisUrl || !pgUrl) {
  console.error(
    'FAUCET_TEST_REDIS_URL and FAUCET_TEST_POSTGRES_URL must be set: `bash scripts/services.sh start postgres redis` and `eval "$(bash scripts/services.sh env)"`',
  );
  process.exit(2);
}
// bullmq and ioredis come with @faucet/runner-bullmq; the bench uses them only to clean up.
const requireRunner = createRequire(join(here, '..', 'packages', 'runner-bullmq', 'package.json'));
const { Queue } = requireRunner('bullmq');
const IORedis = requireRunner('ioredis');

const dir = mkdtempSync(join(tmpdir(), 'faucet-qbench-'));
const pool = new pg.Pool({ connectionString: pgUrl, max: 4 });
const workers = [];
const log = (line) => process.stderr.write(`${line}\n`);
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Runs the CLI to completion; resolves with its exit code, wall seconds and output. */
async function runCli(args) {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [cli, ...args], { cwd: dir, env: process.env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const [code] = await once(child, 'close');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { code, seconds, stdout, stderr };
}

async function startWorkers() {
  for (let i = 0; i < workerCount; i++) {
    const child = spawn(
      process.execPath,
      [cli, 'worker', '--queue', redisUrl, '--queue-name', QUEUE, '--concurrency', String(concurrency)],
      { cwd: dir, env: process.env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    const ready = new Promise((resolve, reject) => {
      child.stderr.on('data', (d) => {
        err += d;
        if (err.includes('taking jobs from')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`worker ${i} exited ${code}: ${err.slice(-2000)}`)));
    });
    // Keep only the tail, to bound memory on long runs.
    child.stderr.on('data', () => {
      if (err.length > 100_000) err = err.slice(-10_000);
    });
    workers.push({ child, ready });
  }
  await Promise.all(workers.map((w) => w.ready));
}

async function stopWorkers() {
  const live = workers.splice(0).filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  for (const w of live) w.child.kill('SIGTERM');
  await Promise.all(
    live.map(
      (w) =>
        new Promise((resolve) => {
          const t = setTimeout(() => {
            w.child.kill('SIGKILL');
            resolve();
          }, 15_000);
          w.child.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
        }),
    ),
  );
}

/** Checks a `-o json` summary: every invocation succeeded. */
function check(result, label, rows) {
  let summary;
  try {
    summary = JSON.parse(result.stdout);
  } catch {
    throw new Error(`${label}: exit ${result.code}, no JSON summary: ${result.stderr.slice(-2000)}`);
  }
  const ok = (summary.invocations ?? []).filter((inv) => inv.status === 'ok').length;
  if (result.code !== 0 || ok !== rows) {
    throw new Error(`${label}: exit ${result.code}, ${ok}/${rows} succeeded: ${result.stderr.slice(-2000)}`);
  }
}

const stateBlock = (table) =>
  `{ type: postgres, config: { connection_url: "\${env:FAUCET_TEST_POSTGRES_URL}", table: ${table}, max_connections: 20 } }`;

function overheadFile(name, localConcurrent) {
  const matrix = Array.from(
    { length: overheadRows },
    (_, i) => `  - { id: r${i}, sink: { config: { path: out/${name}/r${i}.jsonl } } }`,
  ).join('\n');
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `version: 1
name: ${name}
pipeline:
  source: { type: file, config: { path: one.jsonl } }
  sink: { type: file, config: { path: out/x.jsonl, mode: append } }
  state: ${stateBlock('qbench_state')}
${localConcurrent ? `execution: { max_concurrent: ${localConcurrent} }\n` : ''}matrix:
${matrix}
`,
  );
  return `${name}.yaml`;
}

let apiBase = '';

/** The REST API of --wall-source rest: `/t/<i>?page=N` answers page N of table i after --latency-ms. */
async function startApi() {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const table = Number(url.pathname.split('/')[2]);
    const page = Number(url.searchParams.get('page') ?? '1');
    const first = (page - 1) * pageSize + 1;
    const data = [];
    for (let id = first; id <= Math.min(records, first + pageSize - 1); id++)
      data.push({ id, name: `row ${table} ${id}` });
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data }));
    }, latencyMs);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  apiBase = `http://127.0.0.1:${server.address().port}`;
  return server;
}

function wallSourceBlock() {
  if (wallSource === 'rest')
    return `  source:
    type: rest
    config:
      base_url: ${apiBase}
      records_path: $.data
      pagination: { type: page_number, param: page, page_size: ${pageSize} }
      max_pages: 100000
      primary_keys: [id]`;
  return `  source:
    type: postgres
    config:
      connection_url: \${env:FAUCET_TEST_POSTGRES_URL}
      replication_method: { type: Incremental, cursor_field: id }
      primary_keys: [id]`;
}

function wallFile(name, localConcurrent) {
  const source = (i) =>
    wallSource === 'rest' ? `{ config: { path: /t/${i} } }` : `{ config: { table: qbench_src_${i} } }`;
  const matrix = Array.from(
    { length: wallRows },
    (_, i) => `  - { id: r${i}, source: ${source(i)}, sink: { config: { table: qbench_tgt_${i} } } }`,
  ).join('\n');
  writeFileSync(
    join(dir, `${name}.yaml`),
    `version: 1
name: ${name}
pipeline:
${wallSourceBlock()}
  sink:
    type: postgres
    config:
      connection_url: \${env:FAUCET_TEST_POSTGRES_URL}
      write_mode: upsert
      key: [id]
  state: ${stateBlock('qbench_state')}
${localConcurrent ? `execution: { max_concurrent: ${localConcurrent} }\n` : ''}matrix:
${matrix}
`,
  );
  return `${name}.yaml`;
}

const results = { load_before: load() };

async function measure(part, rows, makeFile, localConcurrent, before) {
  const times = { local: [], queue: [] };
  const commands = {};
  for (let r = 1; r <= rounds; r++) {
    for (const mode of ['local', 'queue']) {
      if (before) await before();
      const file = makeFile(
        `qbench_${part}_${mode}_${r}_${process.pid}`,
        mode === 'local' ? localConcurrent : 0,
      );
      const args =
        mode === 'local'
          ? ['run', file, '-o', 'json']
          : ['run', file, '--queue', redisUrl, '--queue-name', QUEUE, '-o', 'json'];
      commands[mode] = `faucet ${args.join(' ').replace(redisUrl, '$FAUCET_TEST_REDIS_URL')}`;
      const result = await runCli(args);
      check(result, `${part} ${mode} round ${r}`, rows);
      times[mode].push(result.seconds);
      log(
        `${part} round ${r} ${mode}: ${result.seconds.toFixed(2)} s (${(rows / result.seconds).toFixed(1)} jobs/s)`,
      );
    }
  }
  const local = median(times.local);
  const queue = median(times.queue);
  return {
    rows,
    rounds,
    local_s: times.local,
    queue_s: times.queue,
    local_median_s: local,
    queue_median_s: queue,
    local_jobs_per_s: rows / local,
    queue_jobs_per_s: rows / queue,
    queue_over_local: queue / local,
    commands,
  };
}

async function dropTables() {
  const { rows } = await pool.query(
    "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS t FROM information_schema.tables WHERE table_name LIKE 'qbench\\_%'",
  );
  for (const { t } of rows) await pool.query(`DROP TABLE IF EXISTS ${t}`);
}

async function cleanupQueue() {
  const connection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  try {
    const queue = new Queue(QUEUE, { connection });
    await queue.obliterate({ force: true });
    await queue.close();
    // Anything else naming the bench queue (run records kept beside the queue).
    let cursor = '0';
    let left = 0;
    do {
      const [next, keys] = await connection.scan(cursor, 'MATCH', `*${QUEUE}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) left += await connection.del(...keys);
    } while (cursor !== '0');
    if (left) log(`deleted ${left} more key(s) naming "${QUEUE}"`);
  } finally {
    connection.disconnect();
  }
}

async function main() {
  log(`load average before: ${results.load_before}`);
  await dropTables();
  await cleanupQueue();
  writeFileSync(join(dir, 'one.jsonl'), '{"id":1,"name":"one"}\n');
  const parts = values.part === 'all' ? ['overhead', 'wall'] : [values.part];
  for (const part of parts) {
    const before = load();
    if (part === 'overhead') {
      await startWorkers();
      results.overhead = await measure('overhead', overheadRows, overheadFile, overheadLocal);
    } else if (part === 'wall') {
      log(`creating ${wallRows} ${wallSource} sources of ${records} rows`);
      if (wallSource === 'rest') api = await startApi();
      for (let i = 0; i < wallRows; i++) {
        if (wallSource === 'postgres') {
          await pool.query(`CREATE TABLE qbench_src_${i} (id bigint PRIMARY KEY, name text NOT NULL)`);
          await pool.query(
            `INSERT INTO qbench_src_${i} SELECT g, 'row ${i} ' || g FROM generate_series(1, ${records}) AS g`,
          );
        }
        await pool.query(`CREATE TABLE qbench_tgt_${i} (id bigint PRIMARY KEY, name text)`);
      }
      const truncate = async () => {
        const list = Array.from({ length: wallRows }, (_, i) => `qbench_tgt_${i}`).join(', ');
        await pool.query(`TRUNCATE ${list}`);
      };
      if (workers.length === 0) await startWorkers();
      results.wall = await measure('wall', wallRows, wallFile, 1, truncate);
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM qbench_tgt_${wallRows - 1}`);
      if (rows[0].n !== records)
        throw new Error(`wall: last target has ${rows[0].n} rows, expected ${records}`);
    } else {
      throw new Error(`unknown --part ${part}`);
    }
    results[part].load_before = before;
    results[part].load_after = load();
  }
  results.load_after = load();
  results.machine = { node: process.version, workers: workerCount, concurrency };
  results.wall_source =
    wallSource === 'rest'
      ? { type: 'rest', latency_ms: latencyMs, page_size: pageSize }
      : { type: 'postgres' };
}

let failed = false;
let api;
try {
  await main();
} catch (error) {
  failed = true;
  console.error(error instanceof Error ? error.message : error);
} finally {
  await stopWorkers();
  api?.close();
  await cleanupQueue().catch((e) => console.error(`queue cleanup: ${e.message}`));
  await dropTables().catch((e) => console.error(`table cleanup: ${e.message}`));
  await pool.end();
  rmSync(dir, { recursive: true, force: true });
}
log(`load average after: ${load()}`);
if (values.json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  for (const part of ['overhead', 'wall']) {
    const r = results[part];
    if (!r) continue;
    console.log(
      `${part}: ${r.rows} rows, median of ${r.rounds}: local ${r.local_median_s.toFixed(2)} s (${r.local_jobs_per_s.toFixed(1)} jobs/s), ` +
        `queue ${r.queue_median_s.toFixed(2)} s (${r.queue_jobs_per_s.toFixed(1)} jobs/s), queue/local ${r.queue_over_local.toFixed(2)}; ` +
        `load ${r.load_before} -> ${r.load_after}`,
    );
    console.log(`  local: ${r.commands.local}\n  queue: ${r.commands.queue}`);
  }
}
process.exit(failed ? 1 : 0);
