#!/usr/bin/env node
/**
 * Scenarios B and C side by side (issue 18), whole processes on the PostgreSQL of
 * `scripts/services.sh`, the table loaded once from the seeded dataset (bench/generate.mjs --seed 42):
 *
 *   C: Postgres -> Postgres    `faucet run` (postgres source, postgres sink with write_method copy,
 *                              file state, a durable checkpoint every page) against the psql COPY pipe
 *                              `psql -c 'COPY src TO STDOUT' | psql -c 'COPY dst FROM STDIN'`;
 *   B: Postgres -> JSONL       `faucet run` (postgres source, file sink with fsync) against
 *                              `psql -c 'COPY (SELECT row_to_json(t) …) TO STDOUT' > file`, the server
 *                              writing the JSON itself.
 *
 * faucet runs three times per scenario: with the defaults (the source streams COPY … TO STDOUT, a
 * durable checkpoint every page of 1,000), with `read_method: cursor` (FETCH a page at a time, the
 * read before COPY) and with `checkpoint_every: 1s` (a durable checkpoint at most once a second).
 * With `--faucet-stream PATH` (or FAUCET_STREAM_BIN) faucet-stream's `faucet run` is measured too, else
 * skipped with a message.
 * Rounds are interleaved; each command's median wall time is compared with the psql baseline's. Every copy is checked against the
 * source table (row count and a hash over every row's text); every JSONL file's line count too.
 *
 *   pnpm build && bash scripts/services.sh start postgres && eval "$(bash scripts/services.sh env)"
 *   node bench/postgres-side-by-side.mjs --rows 1000000 --rounds 3 [--scenario b|c|both] [--json]
 *       [--faucet-stream path/to/faucet-stream/bin/faucet]
 *       [--cli-baseline <another checkout>/apps/cli/dist/bin.js]
 *
 * CPU is the client's (user + system): for faucet its own process (bench/rss-probe.mjs), for psql
 * both psql processes (`/usr/bin/time`); the server's CPU is not counted for either.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(resolve(here, '..'), 'apps', 'cli', 'dist', 'bin.js');

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    scenario: { type: 'string', default: 'both' },
    'cli-baseline': { type: 'string' },
    'faucet-stream': { type: 'string' },
    url: { type: 'string', default: process.env.FAUCET_TEST_POSTGRES_URL },
    json: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
const rounds = Number(values.rounds);
const url = values.url;
if (!url) {
  console.error(
    'FAUCET_TEST_POSTGRES_URL is not set: run `bash scripts/services.sh start postgres` and its `env`',
  );
  process.exit(2);
}
if (!existsSync(cli)) throw new Error(`${cli} is missing: run pnpm build first`);

const SCHEMA = 'bench_pg';
const SRC = `${SCHEMA}.src_${rows}`;
const COLUMNS =
  '(id bigint PRIMARY KEY, first_name text, country text, amount numeric(12,2), created_at timestamptz, ' +
  'active boolean, attributes jsonb)';

const db = new pg.Client({ connectionString: url });
await db.connect();

/** Load the seeded dataset into the source table once; later runs reuse it. */
async function prepareSource() {
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
  const found = await db.query(`SELECT to_regclass($1) AS t`, [SRC]);
  if (found.rows[0].t) {
    const { rows: count } = await db.query(`SELECT count(*)::int AS n FROM ${SRC}`);
    if (count[0].n === rows) return;
    await db.query(`DROP TABLE ${SRC}`);
  }
  const data = join(here, 'results', `data-${rows}.csv`);
  if (!existsSync(data)) {
    const args = [join(here, 'generate.mjs'), '--rows', String(rows), '--seed', '42', '--out', data];
    if (spawnSync(process.execPath, args, { stdio: 'inherit' }).status !== 0)
      throw new Error('generation failed');
  }
  await db.query(`CREATE TABLE ${SRC} ${COLUMNS}`);
  const load = spawnSync(
    'psql',
    [url, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy ${SRC} FROM '${data}' CSV HEADER`],
    {
      encoding: 'utf8',
    },
  );
  if (load.status !== 0) throw new Error(`loading ${data} failed: ${load.stderr}`);
  await db.query(`VACUUM ANALYZE ${SRC}`);
}

/** A fresh, empty target table for one run (created outside the timed part). */
async function freshTarget(name) {
  const table = `${SCHEMA}.${name}`;
  await db.query(`DROP TABLE IF EXISTS ${table}`);
  await db.query(`CREATE TABLE ${table} ${COLUMNS}`);
  return table;
}

/** Row count and a hash over every row's text: equal for equal contents, whatever the order. */
async function digest(table) {
  const { rows: out } = await db.query(
    `SELECT count(*)::int AS n, coalesce(sum(hashtext(t::text)::bigint), 0)::text AS h FROM ${table} t`,
  );
  return `${out[0].n}:${out[0].h}`;
}

const pipelineYaml = (sink, extraSource = '', extraPipeline = []) =>
  [
    'version: 1',
    'name: bench_pg',
    'pipeline:',
    `  source: { type: postgres, config: { connection_url: ${JSON.stringify(url)}, table: ${SRC}, primary_keys: [id], replication_method: { type: Incremental, cursor_field: id }${extraSource} } }`,
    `  sink: ${sink}`,
    '  state: { type: file, config: { path: ./state } }',
    ...extraPipeline,
    '',
  ].join('\n');

const postgresSink = `{ type: postgres, config: { connection_url: ${JSON.stringify(url)}, table: ${SCHEMA}.dst, write_method: copy } }`;
const jsonlSink = '{ type: file, config: { path: ./out.jsonl, format: jsonl, fsync: true } }';

const faucet = (name, yaml, bin = cli) => ({ name, kind: 'faucet', yaml, bin });
const baselineCli = values['cli-baseline'] ? resolve(values['cli-baseline']) : undefined;
/** Another faucet build (e.g. main's before a change) with the defaults, when given. */
const baseline = (yaml) =>
  baselineCli ? [faucet('faucet, defaults, --cli-baseline', yaml, baselineCli)] : [];

/**
 * faucet-stream (the Rust original), when its binary is given: the same pipeline in its own
 * connector configs (a `query` source, which stores no bookmark; a `jsonl` sink; a postgres sink
 * with `column_mapping: auto_map` and `write_method: copy`), run under /usr/bin/time.
 */
const faucetStreamBin = values['faucet-stream'] ?? process.env.FAUCET_STREAM_BIN;
const fsYaml = (sink) =>
  [
    'version: 1',
    'name: bench_pg',
    'pipeline:',
    `  source: { type: postgres, config: { connection_url: ${JSON.stringify(url)}, query: ${JSON.stringify(`SELECT * FROM ${SRC} ORDER BY id`)} } }`,
    `  sink: ${sink}`,
    '  state: { type: file, config: { path: ./state } }',
    '',
  ].join('\n');
const faucetStream = (sink) =>
  faucetStreamBin
    ? [
        {
          name: 'faucet-stream 1.17',
          kind: 'faucet-stream',
          yaml: fsYaml(sink),
          bin: resolve(faucetStreamBin),
        },
      ]
    : [];
if (!faucetStreamBin)
  console.log(
    'faucet-stream: skipped: no faucet-stream binary given (--faucet-stream PATH or FAUCET_STREAM_BIN)',
  );
const fsPostgresSink = `{ type: postgres, config: { connection_url: ${JSON.stringify(url)}, schema: ${SCHEMA}, table_name: dst, column_mapping: auto_map, write_method: copy } }`;
const fsJsonlSink = '{ type: jsonl, config: { path: ./out.jsonl } }';
const scenarios = {
  c: {
    title: 'C: Postgres -> Postgres (COPY)',
    target: 'table',
    commands: [
      {
        name: 'psql COPY pipe',
        kind: 'shell',
        script: `psql "$URL" -qc 'COPY ${SRC} TO STDOUT' | psql "$URL" -v ON_ERROR_STOP=1 -qc 'COPY ${SCHEMA}.dst FROM STDIN'`,
      },
      faucet('faucet, defaults (COPY read)', pipelineYaml(postgresSink)),
      faucet('faucet, read_method: cursor', pipelineYaml(postgresSink, ', read_method: cursor')),
      faucet('faucet, checkpoint_every: 1s', pipelineYaml(postgresSink, '', ['  checkpoint_every: 1s'])),
      ...baseline(pipelineYaml(postgresSink)),
      ...faucetStream(fsPostgresSink),
    ],
  },
  b: {
    title: 'B: Postgres -> JSONL',
    target: 'file',
    commands: [
      {
        name: 'psql COPY of row_to_json',
        kind: 'shell',
        script: `psql "$URL" -qc 'COPY (SELECT row_to_json(t) FROM ${SRC} t ORDER BY id) TO STDOUT' > out.jsonl`,
      },
      faucet('faucet, defaults (COPY read)', pipelineYaml(jsonlSink)),
      faucet('faucet, read_method: cursor', pipelineYaml(jsonlSink, ', read_method: cursor')),
      faucet('faucet, checkpoint_every: 1s', pipelineYaml(jsonlSink, '', ['  checkpoint_every: 1s'])),
      ...baseline(pipelineYaml(jsonlSink)),
      ...faucetStream(fsJsonlSink),
    ],
  },
};

function lineCount(path) {
  const data = readFileSync(path);
  let n = 0;
  for (let at = data.indexOf(10); at >= 0; at = data.indexOf(10, at + 1)) n++;
  return n;
}

/** Run one command in a fresh directory: wall seconds, client CPU seconds, peak RSS MiB. */
function runOnce(command) {
  // The server's WAL and table writes of the run before (fsync off) are still dirty pages the kernel
  // writes back ~30 s later, under this run's fdatasyncs: write them back first.
  spawnSync('sync');
  const dir = mkdtempSync(join(tmpdir(), 'faucet-pg-side-'));
  try {
    let args;
    const env = { ...process.env, URL: url };
    if (command.kind === 'faucet') {
      writeFileSync(join(dir, 'pipeline.yaml'), command.yaml);
      env.FAUCET_BENCH_RSS_FILE = join(dir, 'rss');
      env.FAUCET_BENCH_CPU_FILE = join(dir, 'cpu');
      args = [
        process.execPath,
        '--import',
        join(here, 'rss-probe.mjs'),
        command.bin,
        'run',
        'pipeline.yaml',
        '-o',
        'json',
      ];
    } else {
      const timed = ['/usr/bin/time', '-o', join(dir, 'time'), '-f', '%U %S %M'];
      if (command.kind === 'faucet-stream') {
        writeFileSync(join(dir, 'pipeline.yaml'), command.yaml);
        args = [...timed, command.bin, 'run', 'pipeline.yaml'];
      } else args = [...timed, 'bash', '-o', 'pipefail', '-c', command.script];
    }
    const started = process.hrtime.bigint();
    const run = spawnSync(args[0], args.slice(1), { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 << 20 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (run.status !== 0) throw new Error(`${command.name} failed (${run.status}):\n${run.stderr}`);
    let cpu;
    let rssMiB;
    if (command.kind === 'faucet') {
      cpu = Number(readFileSync(join(dir, 'cpu'), 'utf8'));
      rssMiB = Number(readFileSync(join(dir, 'rss'), 'utf8')) / 1024;
    } else {
      const [user, system, maxKiB] = readFileSync(join(dir, 'time'), 'utf8')
        .trim()
        .split('\n')
        .pop()
        .split(' ');
      cpu = Number(user) + Number(system);
      rssMiB = Number(maxKiB) / 1024;
    }
    const lines = existsSync(join(dir, 'out.jsonl')) ? lineCount(join(dir, 'out.jsonl')) : undefined;
    return { seconds, cpu, rssMiB, lines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

async function runScenario(key) {
  const scenario = scenarios[key];
  const expected = await digest(SRC);
  const times = new Map(scenario.commands.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const command of scenario.commands) {
      if (scenario.target === 'table') await freshTarget('dst');
      const result = runOnce(command);
      if (scenario.target === 'table') {
        const got = await digest(`${SCHEMA}.dst`);
        if (got !== expected)
          throw new Error(`${command.name}: the copy differs from the source (${got} vs ${expected})`);
      } else if (result.lines !== rows) {
        throw new Error(`${command.name}: ${result.lines} lines in the JSONL file, expected ${rows}`);
      }
      times.get(command.name).push(result);
    }
  }
  const baseline = median(times.get(scenario.commands[0].name).map((t) => t.seconds));
  return {
    scenario: scenario.title,
    results: scenario.commands.map((c) => {
      const runs = times.get(c.name);
      const seconds = median(runs.map((t) => t.seconds));
      return {
        name: c.name,
        medianSeconds: round(seconds, 3),
        rowsPerSec: Math.round(rows / seconds),
        // > 1: faster than the psql baseline.
        speedVsBaseline: round(baseline / seconds),
        clientCpuSeconds: round(median(runs.map((t) => t.cpu))),
        peakRssMiB: round(Math.max(...runs.map((t) => t.rssMiB)), 1),
        seconds: runs.map((t) => round(t.seconds)),
      };
    }),
  };
}

try {
  await prepareSource();
  const load = [loadavg()[0]];
  const keys = values.scenario === 'both' ? ['c', 'b'] : [values.scenario];
  const out = [];
  for (const key of keys) out.push(await runScenario(key));
  load.push(loadavg()[0]);
  const summary = { rows, rounds, cores: cpus().length, load: load.map((l) => round(l, 1)), scenarios: out };
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else {
    console.log(
      `postgres side by side: ${rows.toLocaleString('en')} rows, ${rounds} interleaved rounds, load ${summary.load.join(' -> ')}; every copy checked`,
    );
    for (const s of out) {
      console.log(s.scenario);
      for (const r of s.results) {
        console.log(
          `  ${r.name.padEnd(30)} median ${r.medianSeconds.toFixed(2)} s  ${r.rowsPerSec.toLocaleString('en').padStart(9)} rows/s  ${r.speedVsBaseline.toFixed(2)}x baseline  client CPU ${r.clientCpuSeconds} s  peak ${r.peakRssMiB} MiB  (${r.seconds.join(', ')} s)`,
        );
      }
    }
  }
} finally {
  await db.end();
}
