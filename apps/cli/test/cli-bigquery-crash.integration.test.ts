// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${env:…} interpolation
/**
 * Acceptance (sink-bigquery): a REST API of three collections (page_number pagination, incremental on
 * `updated_at`) into BigQuery through the real CLI, killed with SIGKILL five times at random moments
 * and then run to its end.
 *
 * - `load`, effectively-once: every row lands exactly once. A killed run's pages are read again by
 *   the next run (the REST source stores its bookmark on its final page), and each replayed page
 *   meets its own load job id: BigQuery's "Already Exists" answer means it is loaded already. Then
 *   records added to the API are written by the next run, and only they.
 * - `insert_all`, effectively-once: nothing is lost, and every row sent more than once carries the
 *   same insertId each time (so BigQuery's de-duplication can drop the copies; the fake does).
 *
 * BigQuery here is the fake REST server of packages/sink-bigquery/test (bqemulator answers no
 * duplicate job ids). Everything runs on loopback; no service needs to be started.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { type CollectionRecord, type CollectionsServer, startCollectionsServer } from '@faucet/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeBigQuery, type Row } from '../../../packages/sink-bigquery/test/fake-bigquery.js';
import { assertBuilt, cleanupTempDirs, runCli, sleep, startCli, tempDir, write } from './helpers.js';

const KILLS = 5;
const PER_PAGE = 40;
/** users is short (done in the first run); orders and events take many pages. */
const SIZES = { users: 60, orders: 480, events: 600 } as const;
type Collection = keyof typeof SIZES;
const COLLECTIONS = Object.keys(SIZES) as Collection[];
const PROJECT = 'test-project';

/** Record n of a collection: an int8 beyond 2^53 and a numeric travel as strings, as from Postgres. */
function record(collection: Collection, n: number, minute = n): CollectionRecord {
  return {
    id: n,
    updated_at: new Date(Date.UTC(2024, 0, 1) + minute * 60_000).toISOString(),
    name: `${collection} ${n}`,
    big: `${9_007_199_254_740_993n + BigInt(n)}`,
    amount: `${n}.${String(n % 100).padStart(2, '0')}`,
  };
}
const source = (collection: Collection) =>
  Array.from({ length: SIZES[collection] }, (_, i) => record(collection, i + 1));
/** What the API serves, per collection: the tables must end up holding exactly this. */
const served = new Map<Collection, CollectionRecord[]>();
const serve = (collection: Collection, records: CollectionRecord[]) => {
  served.set(collection, [...(served.get(collection) ?? []), ...records]);
  api.add(collection, records);
};
const serveFresh = () => {
  for (const c of COLLECTIONS) {
    served.set(c, source(c));
    api.set(c, source(c));
  }
};

let api: CollectionsServer;
let fake: FakeBigQuery;

beforeAll(async () => {
  assertBuilt();
  api = await startCollectionsServer({ delayMs: 15 });
  fake = await FakeBigQuery.start([PROJECT]);
  fake.pollsBeforeDone = 1;
});
afterAll(async () => {
  await api?.close();
  await fake?.close();
  cleanupTempDirs();
});

function pipelineFile(dataset: string, method: 'load' | 'insert_all'): string {
  return `version: 1
name: ${dataset}
pipeline:
  source:
    type: rest
    config:
      base_url: "${api.url}"
      records_path: $.data
      pagination: { type: page_number, param: page, page_size: ${PER_PAGE}, page_size_param: per_page }
      replication_method: { type: Incremental, cursor_field: updated_at }
      cursor_param: updated_since
      max_pages: 1000
      retry_backoff_ms: 50
  sink:
    type: bigquery
    config:
      project_id: ${PROJECT}
      dataset_id: ${dataset}
      api_endpoint: "\${env:BQ_ENDPOINT}"
      auth: { type: none }
      write_method: ${method}
      create_table: true
      job_poll_ms: 20
      retry: { max_attempts: 5, base_delay_ms: 50 }
  state: { type: file, config: { path: ./state } }
  batch_size: ${PER_PAGE}
  delivery: effectively_once
matrix:
${COLLECTIONS.map((c) => `  - { id: ${c}, source: { config: { path: /${c} } }, sink: { config: { table_id: ${c} } } }`).join('\n')}
execution: { max_concurrent: 3 }
`;
}

interface Summary {
  status: string;
  records_written: number;
  invocations: { state_key: string; status: string; records_written: number }[];
}

/** Writes to the fake this run made (uploads or insertAll calls). */
const writesOf = (dataset: string, method: 'load' | 'insert_all') =>
  method === 'load'
    ? fake.requests.filter((r) => r.path.startsWith('/upload/')).length
    : fake.received.filter((r) => r.table.startsWith(`${PROJECT}:${dataset}.`)).length / PER_PAGE;

/** Five runs, each killed with SIGKILL at a random moment after it has written something. */
async function killFiveTimes(dir: string, dataset: string, method: 'load' | 'insert_all'): Promise<string[]> {
  const env = { BQ_ENDPOINT: fake.url };
  const notes: string[] = [];
  for (let run = 1; run <= KILLS; run++) {
    const before = writesOf(dataset, method);
    // Past at least one page, and well before the run could end (orders and events have 27 pages).
    const target = before + randomInt(1, 12);
    const delayMs = randomInt(0, 120);
    const started = Date.now();
    const cli = startCli(['run', 'pipeline.yaml'], { cwd: dir, env, timeoutMs: 60_000, lowPriority: true });
    let exited = false;
    void cli.done.then(() => {
      exited = true;
    });
    const deadline = Date.now() + 45_000;
    while (writesOf(dataset, method) < target) {
      if (exited) {
        const ended = await cli.done;
        throw new Error(
          `run ${run} ended (code ${ended.code}) before it was killed:\n${ended.stdout}\n${ended.stderr}`,
        );
      }
      if (Date.now() > deadline) throw new Error(`run ${run} wrote nothing in 45 s`);
      await sleep(5);
    }
    await sleep(delayMs);
    cli.child.kill('SIGKILL');
    const killed = await cli.done;
    expect(killed.signal, `run ${run} had ended before the kill: ${killed.stderr}`).toBe('SIGKILL');
    notes.push(`#${run} after ${Date.now() - started} ms (${writesOf(dataset, method) - before} writes)`);
  }
  return notes;
}

async function finish(dir: string): Promise<Summary> {
  const result = await runCli(['run', 'pipeline.yaml', '--output', 'json'], {
    cwd: dir,
    env: { BQ_ENDPOINT: fake.url },
    timeoutMs: 90_000,
  });
  expect(result.code, result.stderr).toBe(0);
  const summary = JSON.parse(result.stdout) as Summary;
  expect(summary.status).toBe('ok');
  return summary;
}

/** The table's rows by id, each id with how many copies it holds. */
function copies(dataset: string, collection: Collection): Map<number, Row[]> {
  const out = new Map<number, Row[]>();
  for (const row of fake.rows(PROJECT, dataset, collection)) {
    const id = Number(row.id);
    out.set(id, [...(out.get(id) ?? []), row]);
  }
  return out;
}

/** Every record the API serves once in its table, values exactly as the API sent them. */
function expectExactlyOnce(dataset: string): void {
  for (const collection of COLLECTIONS) {
    const table = copies(dataset, collection);
    const expected = served.get(collection) ?? [];
    const missing = expected.filter((r) => !table.has(r.id)).map((r) => r.id);
    const repeated = [...table].filter(([, rows]) => rows.length > 1).map(([id]) => id);
    expect(missing, `${collection}: rows missing`).toEqual([]);
    expect(repeated, `${collection}: rows held more than once`).toEqual([]);
    expect(table.size).toBe(expected.length);
    for (const r of expected) expect(table.get(r.id)?.[0]).toEqual(r);
  }
}

describe('faucet run REST → BigQuery, killed with SIGKILL five times', () => {
  it('load, effectively-once: every row exactly once; then only the new records', async () => {
    const dataset = 'crash_load';
    fake.createDataset(PROJECT, dataset);
    serveFresh();
    const dir = tempDir('faucet-bq-crash-');
    write(join(dir, 'pipeline.yaml'), pipelineFile(dataset, 'load'));
    const notes = await killFiveTimes(dir, dataset, 'load');
    const final = await finish(dir);
    expectExactlyOnce(dataset);
    // Replayed pages met their own job ids: more uploads than jobs.
    const uploads = fake.requests.filter((r) => r.path.startsWith('/upload/')).length;
    const jobs = fake.jobOrder.filter((k) => k.startsWith(`${PROJECT}:faucet_`)).length;
    expect(uploads).toBeGreaterThan(jobs);

    // New records in two collections: the next run writes exactly them.
    serve('orders', [
      record('orders', SIZES.orders + 1, 100_000),
      record('orders', SIZES.orders + 2, 100_001),
    ]);
    serve('events', [record('events', SIZES.events + 1, 100_000)]);
    const next = await finish(dir);
    expect(next.records_written).toBe(3);
    expectExactlyOnce(dataset);
    const idle = await finish(dir);
    expect(idle.records_written).toBe(0);
    console.log(
      `[bigquery-crash load] kills: ${notes.join('; ')}; final run wrote ${final.records_written}; ` +
        `${uploads} uploads for ${jobs} jobs`,
    );
  });

  it('insert_all, effectively-once: nothing lost, every copy of a row with the same insertId', async () => {
    const dataset = 'crash_stream';
    fake.createDataset(PROJECT, dataset);
    serveFresh();
    const dir = tempDir('faucet-bq-crash-');
    write(join(dir, 'pipeline.yaml'), pipelineFile(dataset, 'insert_all'));
    const notes = await killFiveTimes(dir, dataset, 'insert_all');
    const final = await finish(dir);
    let sentTwice = 0;
    for (const collection of COLLECTIONS) {
      const table = `${PROJECT}:${dataset}.${collection}`;
      const ids = new Map<number, Set<string | undefined>>();
      const sends = new Map<number, number>();
      for (const row of fake.received.filter((r) => r.table === table)) {
        const id = Number(row.json.id);
        ids.set(id, (ids.get(id) ?? new Set()).add(row.insertId));
        sends.set(id, (sends.get(id) ?? 0) + 1);
      }
      const missing = source(collection).filter((r) => !ids.has(r.id));
      expect(
        missing.map((r) => r.id),
        `${collection}: rows never sent`,
      ).toEqual([]);
      const differing = [...ids].filter(([, set]) => set.size !== 1).map(([id]) => id);
      expect(differing, `${collection}: rows sent again under another insertId`).toEqual([]);
      sentTwice += [...sends.values()].filter((n) => n > 1).length;
    }
    // The kills came mid-run, so pages were sent again; the fake de-duplicates by insertId.
    expect(sentTwice).toBeGreaterThan(0);
    expectExactlyOnce(dataset);
    console.log(
      `[bigquery-crash insert_all] kills: ${notes.join('; ')}; final run wrote ${final.records_written}; ` +
        `${sentTwice} rows sent more than once, each under one insertId`,
    );
  });
});
