/**
 * What the emulator does not model, against the fake REST server (fake-bigquery.ts, written from the
 * REST reference): insertAll's per-row `insertErrors` and `stopped` rows, insertId de-duplication of
 * retried requests, 5xx and quota retries, duplicate job ids ("Already Exists"), failed load jobs,
 * wrong projects, and BIGNUMERIC (which the emulator's DuckDB cannot hold).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createFileStateStore,
  type FaucetRecord,
  isFaucetError,
  runPipeline,
  type Sink,
  unwrapState,
} from '@faucet/core';
import { captureLogger, memorySink, memorySource } from '@faucet/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBigQuerySink } from '../src/index.js';
import { FakeBigQuery, type FakeField } from './fake-bigquery.js';
import { fakeConfig, fakeSink, PROJECT, uniqueName } from './helpers.js';

const ctx = { signal: new AbortController().signal, logger: captureLogger().logger };
const FIELDS: FakeField[] = [
  { name: 'id', type: 'INTEGER', mode: 'REQUIRED' },
  { name: 'name', type: 'STRING' },
  { name: 'note', type: 'STRING' },
];
const INTEGER_NOTE: FakeField[] = [
  FIELDS[0] as FakeField,
  FIELDS[1] as FakeField,
  { name: 'note', type: 'INTEGER' },
];

/** The sink, with `then` run once its first write has returned (to change the table behind it). */
function afterFirstWrite(sink: Sink, then: () => void): Sink {
  let writes = 0;
  return {
    ...sink,
    write: async (batch, writeCtx) => {
      const result = await sink.write(batch, writeCtx);
      if (++writes === 1) then();
      return result;
    },
    flush: () => sink.flush?.() ?? Promise.resolve(),
    close: () => sink.close?.() ?? Promise.resolve(),
  };
}

const records = (n: number, from = 1): FaucetRecord[] =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, name: `name ${from + i}`, note: `note ${from + i}` }));

let fake: FakeBigQuery;
let dataset: string;
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'faucet-bq-'));
  dirs.push(dir);
  return dir;
};

beforeAll(async () => {
  fake = await FakeBigQuery.start();
});
afterAll(async () => {
  await fake.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  dataset = uniqueName('fake');
  fake.createDataset(PROJECT, dataset);
  fake.createTable(PROJECT, dataset, 'events', structuredClone(FIELDS));
  fake.pollsBeforeDone = 1;
  fake.ignoreSkipInvalidRows = false;
});
const stored = () => fake.rows(PROJECT, dataset, 'events');
const ids = () => stored().map((r) => Number(r.id));
const requestsTo = (pattern: RegExp) => fake.requests.filter((r) => pattern.test(r.path)).length;

describe('insertAll', () => {
  afterEach(() => {
    fake.ignoreSkipInvalidRows = false;
  });

  it("reports BigQuery's per-row insertErrors with reason and location and writes every other row", async () => {
    const sink = fakeSink(fake, dataset);
    // The sink has read the schema; then someone makes `note` an INTEGER column behind its back.
    expect(await sink.write(records(2), ctx)).toEqual({});
    fake.setSchema(PROJECT, dataset, 'events', [
      FIELDS[0] as FakeField,
      FIELDS[1] as FakeField,
      { name: 'note', type: 'INTEGER' },
    ]);
    const batch = records(5, 3).map((r, i) => (i === 1 || i === 3 ? r : { ...r, note: String(100 + i) }));
    const result = await sink.write(batch, ctx);
    await sink.close();
    expect(result?.failed?.map((f) => f.index)).toEqual([1, 3]);
    for (const failure of result?.failed ?? []) {
      expect(isFaucetError(failure.error)).toBe(true);
      expect((failure.error as Error).message).toMatch(
        /^bigquery sink: test-project\.fake_\w+\.events rejected the row: invalid at "note": /,
      );
    }
    expect(ids()).toEqual([1, 2, 3, 5, 7]);
  });

  it('sends rows BigQuery "stopped" once more, with their insertIds, and reports the invalid ones', async () => {
    fake.ignoreSkipInvalidRows = true;
    const sink = fakeSink(fake, dataset);
    const batch: FaucetRecord[] = records(4);
    const result = await sink.write(batch, ctx);
    expect(result).toEqual({});
    fake.setSchema(PROJECT, dataset, 'events', [
      FIELDS[0] as FakeField,
      FIELDS[1] as FakeField,
      { name: 'note', type: 'INTEGER' },
    ]);
    const mixed = [
      { id: 10, name: 'a', note: '1' },
      { id: 11, name: 'b', note: 'not a number' },
      { id: 12, name: 'c' },
    ];
    const before = fake.received.length;
    const second = await sink.write(mixed, ctx);
    await sink.close();
    expect(second?.failed?.map((f) => f.index)).toEqual([1]);
    expect(ids()).toEqual([1, 2, 3, 4, 10, 12]);
    // First request: all three; the re-send: the two that were stopped, with the same insertIds.
    const sent = fake.received.slice(before);
    expect(sent.map((r) => r.json.id)).toEqual([10, 11, 12, 10, 12]);
    expect(sent[3]?.insertId).toBe(sent[0]?.insertId);
    expect(sent[4]?.insertId).toBe(sent[2]?.insertId);
  });

  it('retries 5xx and quota answers with the same insertIds, so a lost response writes nothing twice', async () => {
    const sink = fakeSink(fake, dataset, { retry: { max_attempts: 5, base_delay_ms: 10, jitter: false } });
    fake.fail({ status: 503, reason: 'backendError', path: /insertAll$/ });
    fake.fail({ status: 403, reason: 'quotaExceeded', path: /insertAll$/ });
    fake.fail({ status: 429, reason: 'rateLimitExceeded', path: /insertAll$/ });
    fake.fail({ status: 500, reason: 'backendError', path: /insertAll$/, when: 'after' });
    const before = fake.received.length;
    expect(await sink.write(records(3), ctx)).toEqual({});
    await sink.close();
    expect(ids()).toEqual([1, 2, 3]);
    // Two attempts reached the table (the second after a lost answer): the same rows, the same ids.
    const sent = fake.received.slice(before);
    expect(sent).toHaveLength(6);
    expect(sent.slice(3).map((r) => r.insertId)).toEqual(sent.slice(0, 3).map((r) => r.insertId));
    expect(new Set(sent.map((r) => r.insertId)).size).toBe(3);
  });

  it("gives up after the configured attempts with BigQuery's reason, and never retries a 400", async () => {
    const sink = fakeSink(fake, dataset, { retry: { max_attempts: 2, base_delay_ms: 1 } });
    fake.fail({ status: 503, reason: 'backendError', path: /insertAll$/, times: 2, message: 'try later' });
    const error = await sink.write(records(1), ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isFaucetError(error) && error.code).toBe('SINK_WRITE_FAILED');
    expect((error as Error).message).toMatch(
      /inserting 1 rows into test-project\.\w+\.events \(insertAll\) failed: HTTP 503: try later \(backendError\)/,
    );
    const before = requestsTo(/insertAll$/);
    fake.fail({ status: 400, reason: 'invalid', path: /insertAll$/, message: 'bad request' });
    const bad = await sink.write(records(1), ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((bad as Error).message).toMatch(/HTTP 400: bad request \(invalid\)/);
    expect(requestsTo(/insertAll$/) - before).toBe(1);
    await sink.close();
  });

  it('sends the insertIds of the key fields, so a key sent twice carries one id', async () => {
    const sink = fakeSink(fake, dataset, { key: ['id'] });
    const before = fake.received.length;
    await sink.write(records(2), ctx);
    await sink.write(records(2), ctx);
    await sink.close();
    const sent = fake.received.slice(before);
    expect(sent.map((r) => r.insertId)).toEqual([
      sent[0]?.insertId,
      sent[1]?.insertId,
      sent[0]?.insertId,
      sent[1]?.insertId,
    ]);
    expect(ids()).toEqual([1, 2]);
  });

  it('puts per-row errors in the DLQ with the reason and location, and the run goes on', async () => {
    const dlq = memorySink();
    const state = createFileStateStore({ path: tempDir() });
    // Page 1 is written; then `note` turns INTEGER, so rows 3 and 4 of page 2 (text notes) fail there.
    const sink = afterFirstWrite(fakeSink(fake, dataset, { batch_size: 10 }), () =>
      fake.setSchema(PROJECT, dataset, 'events', INTEGER_NOTE),
    );
    const source = memorySource({
      records: [
        ...records(10),
        ...records(10, 11).map((r, i) => (i === 3 || i === 4 ? r : { ...r, note: null })),
      ],
      pageSize: 10,
    });
    const result = await runPipeline({
      source,
      sink,
      state,
      dlq: { sink: dlq },
      pipeline: 'dlq',
      batchSize: 10,
      connectors: { sink: 'bigquery' },
    });
    await sink.close?.();
    expect(result.status).toBe('ok');
    expect(result.recordsDeadLettered).toBe(2);
    const envelopes = dlq.storage.rows as {
      error: { kind: string; message: string };
      payload: FaucetRecord;
      record_index: number;
    }[];
    expect(envelopes.map((e) => [e.payload.id, e.record_index, e.error.kind])).toEqual([
      [14, 3, 'SINK_ROW_REJECTED'],
      [15, 4, 'SINK_ROW_REJECTED'],
    ]);
    for (const e of envelopes) {
      expect(e.error.message).toMatch(/rejected the row: invalid at "note": Cannot convert value to integer/);
    }
    expect(stored()).toHaveLength(18);
  });
});

describe('load jobs', () => {
  it('stages rows until a flush, then loads them with one job under our own id', async () => {
    const sink = fakeSink(fake, dataset, { write_method: 'load' });
    await sink.write(records(3), ctx);
    await sink.write(records(2, 4), ctx);
    expect(stored()).toEqual([]);
    await sink.flush?.();
    await sink.close();
    expect(ids()).toEqual([1, 2, 3, 4, 5]);
    const jobs = fake.jobOrder.filter(
      (k) => fake.jobs.get(k)?.final && JSON.stringify(fake.jobs.get(k)?.resource).includes(dataset),
    );
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatch(/^test-project:faucet_[0-9a-f]{32}$/);
  });

  it('a flush that failed is done again with the same rows and job id, never skipped', async () => {
    const sink = fakeSink(fake, dataset, { write_method: 'load', retry: { max_attempts: 1 } });
    await sink.write(records(3), ctx);
    // Refused before the job exists: the next flush must still load the rows.
    fake.fail({ status: 503, reason: 'backendError', path: /^\/upload\// });
    await expect(sink.flush?.()).rejects.toMatchObject({ retryable: true });
    expect(stored()).toEqual([]);
    await sink.flush?.();
    expect(ids()).toEqual([1, 2, 3]);
    // Carried out, but the answer was lost: the next flush finds its job by id and loads nothing twice.
    await sink.write(records(2, 4), ctx);
    fake.fail({ status: 503, reason: 'backendError', path: /^\/upload\//, when: 'after' });
    await expect(sink.flush?.()).rejects.toMatchObject({ retryable: true });
    await sink.flush?.();
    await sink.close();
    expect(ids()).toEqual([1, 2, 3, 4, 5]);
  });

  it('a failed load job fails the run with its first errors, and the bookmark stays', async () => {
    const dir = tempDir();
    const state = createFileStateStore({ path: dir });
    const pipeline = uniqueName('loadfail');
    const run = (sinkRecords: FaucetRecord[]) =>
      runPipeline({
        source: memorySource({ records: sinkRecords, pageSize: 5 }),
        sink: fakeSink(fake, dataset, { write_method: 'load' }),
        state,
        pipeline,
        batchSize: 5,
        retry: false,
      });
    const first = await run(records(10));
    expect(first.status).toBe('ok');
    expect(ids()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const stateKey = `${pipeline}::row-0`;
    expect(unwrapState(await state.get(stateKey)).bookmark).toEqual({ offset: 10 });
    // The next run reads the schema (note STRING) and stages text; the table's `note` becomes INTEGER
    // before the group is loaded, so the load job fails at the checkpoint of its first page.
    const second = await runPipeline({
      source: memorySource({ records: records(15), pageSize: 5 }),
      sink: afterFirstWrite(fakeSink(fake, dataset, { write_method: 'load' }), () =>
        fake.setSchema(PROJECT, dataset, 'events', INTEGER_NOTE),
      ),
      state,
      pipeline,
      batchSize: 5,
      retry: false,
    });
    expect(second.status).toBe('failed');
    expect(isFaucetError(second.error)).toBe(true);
    expect(second.error?.message).toMatch(
      /bigquery sink: load job of 5 rows into test-project\.\w+\.events \(job faucet_\w+\) failed: invalid: Error while reading data, error message: JSON table encountered too many errors.*; first errors: invalid at note: .*Cannot convert value to integer/,
    );
    expect(unwrapState(await state.get(stateKey)).bookmark).toEqual({ offset: 10 });
    expect(ids()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('a replayed page meets its own job id ("Already Exists") and is not loaded twice', async () => {
    const commit = {
      scope: 'replay::row-0',
      token: 'faucet1:0000000000000001.0000000000#{"b":{"offset":3}}',
    };
    const first = fakeSink(fake, dataset, { write_method: 'load' });
    await first.writeIdempotent?.(records(3), commit, ctx);
    await first.close();
    const jobsBefore = fake.jobOrder.length;
    const { logger, lines } = captureLogger();
    const again = createBigQuerySink(fakeConfig(fake, dataset, { write_method: 'load' }), { logger });
    await again.writeIdempotent?.(records(3), commit, ctx);
    await again.close();
    expect(ids()).toEqual([1, 2, 3]);
    expect(fake.jobOrder.length).toBe(jobsBefore);
    expect(lines.some((l) => l.msg.includes('an earlier run loaded this page'))).toBe(true);
    const last = fake.requests.filter((r) => r.path.includes('/upload/')).length;
    expect(last).toBeGreaterThanOrEqual(2);
    // Other records at the same position (a source that changed) are a different page: loaded.
    const changed = fakeSink(fake, dataset, { write_method: 'load' });
    await changed.writeIdempotent?.(records(1, 50), commit, ctx);
    await changed.close();
    expect(ids()).toEqual([1, 2, 3, 50]);
  });

  it('a lost answer to the upload is retried with the same id, which finds the job it created', async () => {
    fake.fail({ status: 503, reason: 'backendError', path: /^\/upload\//, when: 'after' });
    const sink = fakeSink(fake, dataset, { write_method: 'load' });
    const commit = { scope: 'lost::row-0', token: 'faucet1:0000000000000001.0000000000#{"b":1}' };
    await sink.writeIdempotent?.(records(4), commit, ctx);
    await sink.close();
    expect(ids()).toEqual([1, 2, 3, 4]);
  });

  it('a page whose job failed in an earlier run is loaded under the next id of its sequence', async () => {
    const commit = { scope: 'refail::row-0', token: 'faucet1:0000000000000001.0000000000#{"b":2}' };
    const integerNote = [FIELDS[0] as FakeField, FIELDS[1] as FakeField, { name: 'note', type: 'INTEGER' }];
    // Run 1 read the schema (note STRING); the table then changed under it, so its load job fails.
    const first = fakeSink(fake, dataset, { write_method: 'load' });
    await first.write([], ctx);
    fake.setSchema(PROJECT, dataset, 'events', integerNote);
    const error = await first.writeIdempotent?.(records(2), commit, ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    await first.close();
    expect((error as Error).message).toMatch(/failed: invalid/);
    const failedJob = fake.jobOrder[fake.jobOrder.length - 1] as string;
    // The table is fixed; run 2 replays the page: same id, known to have failed, so it uses `_r1`.
    fake.setSchema(PROJECT, dataset, 'events', structuredClone(FIELDS));
    const second = fakeSink(fake, dataset, { write_method: 'load' });
    await second.writeIdempotent?.(records(2), commit, ctx);
    await second.close();
    expect(ids()).toEqual([1, 2]);
    expect(fake.jobOrder[fake.jobOrder.length - 1]).toBe(`${failedJob}_r1`);
  });

  it('finds the last commit token in the job history', async () => {
    const sink = fakeSink(fake, dataset, { write_method: 'load' });
    expect(await sink.lastCommittedToken?.('history::row-0')).toBeUndefined();
    const token = (seq: number) =>
      `faucet1:${String(seq).padStart(16, '0')}.0000000000#{"b":{"offset":${seq}}}`;
    await sink.writeIdempotent?.(records(1), { scope: 'history::row-0', token: token(1) }, ctx);
    await sink.writeIdempotent?.(records(1, 2), { scope: 'history::row-0', token: token(2) }, ctx);
    await sink.writeIdempotent?.(records(1, 3), { scope: 'other::row-0', token: token(9) }, ctx);
    expect(await sink.lastCommittedToken?.('history::row-0')).toBe(token(2));
    expect(await sink.lastCommittedToken?.('other::row-0')).toBe(token(9));
    await sink.close();
  });
});

describe('MERGE jobs (the fake records them; their SQL is not run here)', () => {
  afterEach(() => {
    fake.acceptQueries = false;
  });

  it('a replayed page meets its own MERGE job id, and the token is found in its labels', async () => {
    fake.acceptQueries = true;
    const commit = { scope: 'merge::row-0', token: 'faucet1:0000000000000004.0000000000#{"b":{"offset":4}}' };
    const config = { write_mode: 'upsert' as const, key: ['id'] };
    const first = fakeSink(fake, dataset, config);
    await first.writeIdempotent?.(records(4), commit, ctx);
    expect(await first.lastCommittedToken?.('merge::row-0')).toBe(commit.token);
    await first.close();
    const merges = () =>
      fake.jobOrder.filter((k) => JSON.stringify(fake.jobs.get(k)?.resource).includes('"jobType":"QUERY"'));
    expect(merges()).toHaveLength(1);
    expect(fake.queries[0]).toMatch(
      /^MERGE `test-project\.\w+\.events` AS T\nUSING `test-project\.\w+\.events_faucet_staging_[0-9a-f]{8}` AS S/,
    );
    const { logger, lines } = captureLogger();
    const again = createBigQuerySink(fakeConfig(fake, dataset, config), { logger });
    await again.writeIdempotent?.(records(4), commit, ctx);
    await again.close();
    // Same page, same id: "Already Exists", no second MERGE; both staging tables are dropped.
    expect(merges()).toHaveLength(1);
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect([...fake.tables.keys()].filter((k) => k.includes('_faucet_staging_'))).toEqual([]);
  });
});

describe('bad input', () => {
  it('a wrong project is a clear error naming it', async () => {
    const sink = createBigQuerySink({ ...fakeConfig(fake, dataset), project_id: 'no-such-project' });
    const error = await sink.check().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isFaucetError(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /^bigquery sink: dataset no-such-project:fake_\w+ of table no-such-project\.fake_\w+\.events was not found \(Not found: Project no-such-project\); check project_id and dataset_id/,
    );
    const write = await sink.write(records(1), ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((write as Error).message).toMatch(/Not found: Project no-such-project/);
    await sink.close();
  });

  it('a missing table or dataset says what to do', async () => {
    const sink = fakeSink(fake, dataset, { table_id: 'nope' });
    await expect(sink.check()).rejects.toThrow(
      /table test-project\.\w+\.nope does not exist; create it or set create_table: true/,
    );
    await sink.close();
    const create = fakeSink(fake, 'no_dataset', { create_table: true });
    await expect(create.check()).rejects.toThrow(
      /dataset test-project:no_dataset of table test-project\.no_dataset\.events was not found \(Not found: Dataset test-project:no_dataset\)/,
    );
    await expect(create.write(records(1), ctx)).rejects.toThrow(
      /dataset test-project:no_dataset .* was not found/,
    );
    await create.close();
  });

  it('a field the table lacks is a row error that says how to let it in', async () => {
    const sink = fakeSink(fake, dataset);
    const result = await sink.write([{ id: 1, name: 'a', colour: 'red' }, { id: 2 }], ctx);
    await sink.close();
    expect(result?.failed?.map((f) => f.index)).toEqual([0]);
    expect((result?.failed?.[0]?.error as Error).message).toBe(
      `bigquery sink: the row cannot be written to test-project.${dataset}.events: colour: no such field in the table ` +
        '(schema_evolution: fail; set schema_evolution: add_columns to add new fields as columns)',
    );
    const without = await runPipeline({
      source: memorySource({ records: [{ id: 3, colour: 'blue' }] }),
      sink: fakeSink(fake, dataset),
      pipeline: 'nodlq',
    });
    expect(without.status).toBe('failed');
    expect(without.error?.message).toMatch(/rejected 1 of 1 rows .*colour: no such field in the table/);
  });

  it('add_columns widens the table first', async () => {
    const sink = fakeSink(fake, dataset, { schema_evolution: 'add_columns' });
    expect(await sink.write([{ id: 1, colour: 'red', size: 3, at: '2024-05-01T10:00:00Z' }], ctx)).toEqual(
      {},
    );
    await sink.close();
    expect(fake.table(PROJECT, dataset, 'events')?.fields.slice(3)).toEqual([
      { name: 'colour', type: 'STRING', mode: 'NULLABLE' },
      { name: 'size', type: 'INT64', mode: 'NULLABLE' },
      { name: 'at', type: 'TIMESTAMP', mode: 'NULLABLE' },
    ]);
    expect(stored()).toEqual([{ id: 1, colour: 'red', size: 3, at: '2024-05-01T10:00:00Z' }]);
  });
});

describe('exact numbers', () => {
  it('integer and decimal strings land in INT64, NUMERIC and BIGNUMERIC as sent', async () => {
    const row = {
      id: '9223372036854775807',
      numeric: '-99999999999999999999999999999.999999999',
      bignumeric: '57896044618658097711785492504343953926.63499233282028201972879200395656481996',
    };
    for (const method of ['insert_all', 'load'] as const) {
      const table = `exact_${method}`;
      const sink = fakeSink(fake, dataset, { table_id: table, create_table: true, write_method: method });
      expect(await sink.write([row], ctx)).toEqual({});
      await sink.flush?.();
      await sink.close();
      expect(fake.table(PROJECT, dataset, table)?.fields.map((f) => f.type)).toEqual([
        'INT64',
        'NUMERIC',
        'BIGNUMERIC',
      ]);
      expect(fake.rows(PROJECT, dataset, table)).toEqual([row]);
    }
  });
});
