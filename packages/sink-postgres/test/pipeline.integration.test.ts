/**
 * Postgres → Postgres through core's runPipeline: the incremental acceptance test of the issue (a
 * second run moves exactly the rows updated or inserted since the first, and rows sharing a cursor
 * value across page boundaries all arrive), and crash/resume with a sink that fails mid-way.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assertRunOk,
  createFileStateStore,
  createMemoryStateStore,
  type PipelineResult,
  runPipeline,
  type Sink,
  type StateStore,
} from '@faucet/core';
import {
  createPostgresSink,
  type PostgresSinkConfigInput,
  type PostgresSinkPool,
} from '@faucet/sink-postgres';
import { createPostgresSource } from '@faucet/source-postgres';
import { failingSink, failingStateStore } from '@faucet/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, qualify, useSchema, withPostgres } from './helpers.js';

const schema = useSchema(POSTGRES_URL, 'pipe_it');
let stateDir = '';
beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'faucet-pg-pipeline-'));
});
afterAll(async () => {
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

withPostgres('postgres → postgres through runPipeline', (url) => {
  const s = schema.name;
  const sql = async <T extends object = Record<string, unknown>>(text: string, values: unknown[] = []) =>
    (await schema.pool().query<T & Record<string, unknown>>(text, values)).rows;

  const incrementalSource = (table: string) =>
    createPostgresSource({
      connection_url: url,
      table: `${s}.${table}`,
      replication_method: { type: 'Incremental', cursor_field: 'updated_at' },
      primary_keys: ['id'],
    });

  async function run(options: {
    sourceTable: string;
    sink: Sink;
    state: StateStore;
    batchSize: number;
    stateKey: string;
    delivery?: 'effectively_once';
  }): Promise<PipelineResult> {
    const source = incrementalSource(options.sourceTable);
    try {
      return await runPipeline({
        source,
        sink: options.sink,
        state: options.state,
        stateKey: options.stateKey,
        batchSize: options.batchSize,
        retry: false,
        connectors: { source: 'postgres', sink: 'postgres', state: 'file' },
        ...(options.delivery ? { delivery: options.delivery } : {}),
      });
    } finally {
      await source.close?.();
      await options.sink.close?.();
    }
  }

  /** Same rows, same values, in source and target. */
  async function expectSameRows(sourceTable: string, targetTable: string): Promise<void> {
    const rows = async (table: string) =>
      sql<{ id: number; updated_at: Date; payload: string }>(
        `SELECT id, updated_at, payload FROM ${qualify(s, table)} ORDER BY id`,
      );
    expect(await rows(targetTable)).toEqual(await rows(sourceTable));
  }

  describe('incremental acceptance', () => {
    beforeAll(async () => {
      await sql(
        `CREATE TABLE ${s}.orders (id int PRIMARY KEY, updated_at timestamptz NOT NULL, payload text)`,
      );
      // 1000 rows; every 250 share one updated_at, so with pages of 64 boundaries fall inside those runs.
      await sql(
        `INSERT INTO ${s}.orders SELECT g, '2024-01-01'::timestamptz + ((g - 1) / 250) * interval '1 day', ` +
          "'v1-' || g FROM generate_series(1, 1000) g",
      );
      await sql(`CREATE TABLE ${s}.orders_copy (id int PRIMARY KEY, updated_at timestamptz, payload text)`);
    });

    it('a second run moves exactly the 100 updated and 100 inserted rows', async () => {
      const state = createFileStateStore({ path: join(stateDir, 'acceptance') });
      const sinkConfig: PostgresSinkConfigInput = {
        connection_url: url,
        table: `${s}.orders_copy`,
        write_mode: 'upsert',
        key: ['id'],
      };
      const go = () =>
        run({
          sourceTable: 'orders',
          sink: createPostgresSink(sinkConfig),
          state,
          batchSize: 64,
          stateKey: 'orders::row-0',
        });

      const first = await go();
      assertRunOk(first);
      expect(first.recordsRead).toBe(1000);
      expect(first.checkpoints).toBe(Math.ceil(1000 / 64));
      await expectSameRows('orders', 'orders_copy');

      // 100 updates and 100 inserts, all with one new updated_at value: 200 rows sharing a cursor
      // value, spread over four pages of 64.
      await sql(`UPDATE ${s}.orders SET updated_at = '2024-02-01', payload = 'v2-' || id WHERE id % 10 = 0`);
      await sql(
        `INSERT INTO ${s}.orders SELECT g, '2024-02-01', 'v1-' || g FROM generate_series(1001, 1100) g`,
      );
      const second = await go();
      assertRunOk(second);
      expect(second.recordsRead).toBe(200);
      expect(second.recordsWritten).toBe(200);
      expect(second.pages).toBe(4);
      await expectSameRows('orders', 'orders_copy');

      const third = await go();
      assertRunOk(third);
      expect(third.recordsRead).toBe(0);
      expect(third.lastBookmark).toEqual({
        kind: 'keyset',
        table: `${s}.orders`,
        columns: ['updated_at', 'id'],
        after: ['2024-02-01T00:00:00Z', 1100],
      });
    });

    it('rows sharing one cursor value all arrive when a run dies at a page boundary among them', async () => {
      await sql(`CREATE TABLE ${s}.ties (id int PRIMARY KEY, updated_at timestamptz NOT NULL, payload text)`);
      await sql(`INSERT INTO ${s}.ties SELECT g, '2024-05-05', 'p' || g FROM generate_series(1, 300) g`);
      await sql(`CREATE TABLE ${s}.ties_copy (id int PRIMARY KEY, updated_at timestamptz, payload text)`);
      const state = createMemoryStateStore();
      const sink = () =>
        createPostgresSink({
          connection_url: url,
          table: `${s}.ties_copy`,
          write_mode: 'upsert',
          key: ['id'],
        });
      const first = await run({
        sourceTable: 'ties',
        sink: failingSink(sink(), { failAtWrite: 3 }),
        state,
        batchSize: 70,
        stateKey: 'ties::row-0',
      });
      expect(first.status).toBe('failed');
      expect(first.lastBookmark).toMatchObject({ after: ['2024-05-05T00:00:00Z', 140] });
      const second = await run({
        sourceTable: 'ties',
        sink: sink(),
        state,
        batchSize: 70,
        stateKey: 'ties::row-0',
      });
      assertRunOk(second);
      expect(second.recordsRead).toBe(160);
      await expectSameRows('ties', 'ties_copy');
    });
  });

  describe('crash and resume', () => {
    const ROWS = 500;
    const PAGE = 50;

    beforeAll(async () => {
      await sql(
        `CREATE TABLE ${s}.items (id int PRIMARY KEY, updated_at timestamptz NOT NULL, payload text)`,
      );
      await sql(
        `INSERT INTO ${s}.items SELECT g, '2024-01-01'::timestamptz + (g / 7) * interval '1 minute', ` +
          "'x' || g " +
          `FROM generate_series(1, ${ROWS}) g`,
      );
    });

    /** Row count and distinct ids of a target table. */
    async function counts(table: string): Promise<{ rows: number; ids: number; missing: number }> {
      const [row] = await sql<{ rows: number; ids: number; missing: number }>(
        `SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids, ` +
          `(SELECT count(*)::int FROM ${qualify(s, 'items')} i WHERE NOT EXISTS ` +
          `(SELECT 1 FROM ${qualify(s, table)} t WHERE t.id = i.id)) AS missing FROM ${qualify(s, table)}`,
      );
      return row as { rows: number; ids: number; missing: number };
    }

    const scenarios = [
      { name: 'the write of page 4 fails', sink: { failAtWrite: 4 } },
      { name: 'the process is killed at the write of page 6', sink: { failAtWrite: 6, kill: true } },
      // The double forwards half of page 5 and then fails: a partial write. An effectively-once
      // sink commits a page whole (rows and token in one transaction), so that case cannot happen
      // to it; the connection drop below is its mid-page crash.
      {
        name: 'a crash in the middle of page 5',
        sink: { failAtRow: 4 * PAGE + PAGE / 2 },
        notEffectivelyOnce: true,
      },
      { name: 'the connection drops at the commit of page 5', commitFailAt: 5 },
      { name: 'the state put of page 3 fails after the commit', putFailAt: 3 },
    ] as const;

    /**
     * A pool whose n-th commit fails the call: a COMMIT never reaches the server (the transaction is
     * rolled back), or a statement sent outside a transaction — atomic, committed on its own — commits
     * and its reply is lost.
     */
    function droppingPool(commitFailAt: number): { pool: PostgresSinkPool; end: () => Promise<void> } {
      const inner = new pg.Pool({ connectionString: url, max: 2 });
      let commits = 0;
      const pool: PostgresSinkPool = {
        async connect() {
          const client = await inner.connect();
          const query = client.query.bind(client) as (q: unknown) => Promise<unknown>;
          let inTransaction = false;
          return new Proxy(client, {
            get(target, property, receiver) {
              if (property !== 'query') return Reflect.get(target, property, receiver);
              return async (q: unknown) => {
                const text = typeof q === 'string' ? q : String((q as { text?: unknown }).text ?? '');
                const commitsAlone = !inTransaction && /^\s*(INSERT|COPY|DELETE)\b/i.test(text);
                if (text === 'BEGIN') inTransaction = true;
                if (text === 'COMMIT' || text === 'ROLLBACK') inTransaction = false;
                if ((text === 'COMMIT' || commitsAlone) && ++commits === commitFailAt) {
                  if (commitsAlone) {
                    await query(q);
                    throw new Error('injected failure: connection terminated before the reply');
                  }
                  await query('ROLLBACK');
                  throw new Error('injected failure: connection terminated before COMMIT');
                }
                return query(q);
              };
            },
          });
        },
      };
      return { pool, end: () => inner.end() };
    }

    const modes = [
      {
        mode: 'upsert',
        sink: { write_mode: 'upsert', key: ['id'] as string[] },
        primaryKey: true,
        maxDuplicates: 0,
      },
      {
        mode: 'effectively-once append',
        sink: {},
        primaryKey: false,
        maxDuplicates: 0,
        delivery: 'effectively_once',
      },
      { mode: 'plain append', sink: {}, primaryKey: false, maxDuplicates: PAGE },
    ] as const;

    for (const mode of modes) {
      for (const [n, scenario] of scenarios.entries()) {
        if ('notEffectivelyOnce' in scenario && 'delivery' in mode) continue;
        const title =
          `${mode.mode}: ${scenario.name}, then a resumed run: nothing lost, ` +
          `≤ ${mode.maxDuplicates} duplicates`;
        it(title, async () => {
          const table = `target_${mode.mode.replace(/[^a-z]+/g, '_')}_${n}`;
          await sql(
            `CREATE TABLE ${qualify(s, table)} (id int NOT NULL ${mode.primaryKey ? 'PRIMARY KEY' : ''}, ` +
              'updated_at timestamptz, payload text)',
          );
          // A durable store shared by both runs, as after a process restart.
          const store = createFileStateStore({ path: join(stateDir, table) });
          const stateKey = `${table}::row-0`;
          const sink = () =>
            createPostgresSink({ connection_url: url, table: `${s}.${table}`, ...mode.sink });
          const delivery = 'delivery' in mode ? { delivery: mode.delivery } : {};
          const dropping = 'commitFailAt' in scenario ? droppingPool(scenario.commitFailAt) : undefined;
          const firstSink = dropping
            ? createPostgresSink(
                { connection_url: url, table: `${s}.${table}`, ...mode.sink },
                { pool: dropping.pool },
              )
            : sink();
          const first = await run({
            sourceTable: 'items',
            sink: 'sink' in scenario ? failingSink(firstSink, scenario.sink) : firstSink,
            state:
              'putFailAt' in scenario ? failingStateStore(store, { failPutAt: scenario.putFailAt }) : store,
            batchSize: PAGE,
            stateKey,
            ...delivery,
          });
          await dropping?.end();
          expect(first.status).toBe('failed');
          expect(first.error?.message).toContain('injected failure');
          const second = await run({
            sourceTable: 'items',
            sink: sink(),
            state: store,
            batchSize: PAGE,
            stateKey,
            ...delivery,
          });
          assertRunOk(second);
          const seen = await counts(table);
          expect(seen.missing).toBe(0);
          expect(seen.ids).toBe(ROWS);
          expect(seen.rows - seen.ids).toBeLessThanOrEqual(mode.maxDuplicates);
          if (mode.maxDuplicates === 0) expect(seen.rows).toBe(ROWS);
        });
      }
    }
  });
});
