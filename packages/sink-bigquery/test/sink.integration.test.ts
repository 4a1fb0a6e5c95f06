/**
 * Happy paths on bqemulator, which runs real SQL (DuckDB): tables created from the first page,
 * insertAll and load jobs read back, exact integers and decimals, new columns, RECORD columns, and
 * MERGE upserts and deletes (10,000 rows, then 1,000 updates and 100 deletes: the table equals the
 * source).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileStateStore, type FaucetRecord, runPipeline } from '@faucet/core';
import { memorySource } from '@faucet/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createBigQuerySink } from '../src/index.js';
import { useDataset, withEmulator } from './emulator.js';

const ctx = {
  signal: new AbortController().signal,
  logger: { debug() {}, info() {}, warn() {}, error() {} },
};
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

withEmulator('with bqemulator', () => {
  const ds = useDataset('sink_it');

  const schemaOf = async (table: string) => {
    const t = await ds.call<{ schema: { fields: { name: string; type: string; mode?: string }[] } }>(
      'GET',
      `/datasets/${ds.name}/tables/${table}`,
    );
    return Object.fromEntries(
      t.schema.fields.map((f) => [f.name, `${f.type}${f.mode === 'REPEATED' ? '[]' : ''}`]),
    );
  };

  describe('append', () => {
    const rows: FaucetRecord[] = [
      {
        id: 1,
        name: 'Ada',
        amount: 12.5,
        active: true,
        big: '9223372036854775807',
        price: '1234567890.123456789',
        seen_at: '2024-01-02T03:04:05Z',
        meta: { tags: ['a', 'b'] },
      },
      {
        id: 2,
        name: 'Bob',
        amount: 3,
        active: false,
        big: '-9223372036854775808',
        price: '0.5',
        seen_at: '2024-06-01T00:00:00Z',
        meta: null,
      },
    ];

    for (const method of ['insert_all', 'load'] as const) {
      it(`${method}: creates the table from the first page and writes every row exactly`, async () => {
        const table = `created_${method}`;
        const sink = createBigQuerySink(ds.config(table, { create_table: true, write_method: method }));
        await sink.check();
        expect(await sink.write(rows, ctx)).toEqual({});
        await sink.flush?.();
        await sink.close();
        expect(await schemaOf(table)).toEqual({
          id: 'INT64',
          name: 'STRING',
          amount: 'FLOAT64',
          active: 'BOOL',
          big: 'INT64',
          price: 'NUMERIC',
          seen_at: 'TIMESTAMP',
          meta: 'JSON',
        });
        const back = await ds.query(
          `SELECT id, name, amount, active, CAST(big AS STRING) AS big, CAST(price AS STRING) AS price,
                  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', seen_at) AS seen_at, TO_JSON_STRING(meta) AS meta
           FROM ${ds.table(table)} ORDER BY id`,
        );
        expect(back).toEqual([
          {
            id: '1',
            name: 'Ada',
            amount: '12.5',
            active: 'true',
            big: '9223372036854775807',
            price: '1234567890.123456789',
            seen_at: '2024-01-02T03:04:05Z',
            meta: '{"tags":["a","b"]}',
          },
          {
            id: '2',
            name: 'Bob',
            amount: '3.0',
            active: 'false',
            big: '-9223372036854775808',
            price: '0.500000000',
            seen_at: '2024-06-01T00:00:00Z',
            meta: null,
          },
        ]);
      });
    }

    it('nested_as record makes RECORD and REPEATED columns', async () => {
      const sink = createBigQuerySink(
        ds.config('nested', { create_table: true, nested_as: 'record', write_method: 'load' }),
      );
      await sink.write([{ id: 1, addr: { city: 'Oslo', zip: 150 }, tags: ['x', 'y'] }], ctx);
      await sink.flush?.();
      await sink.close();
      expect(await schemaOf('nested')).toEqual({ id: 'INT64', addr: 'RECORD', tags: 'STRING[]' });
      const back = await ds.query(
        `SELECT addr.city AS city, addr.zip AS zip, ARRAY_LENGTH(tags) AS n FROM ${ds.table('nested')}`,
      );
      expect(back).toEqual([{ city: 'Oslo', zip: '150', n: '2' }]);
    });

    it('an explicit schema, partitioning and clustering', async () => {
      const sink = createBigQuerySink(
        ds.config('explicit', {
          create_table: true,
          schema: [
            { name: 'id', type: 'INT64', mode: 'REQUIRED' },
            { name: 'day', type: 'DATE' },
            { name: 'region', type: 'STRING' },
          ],
          partitioning: { type: 'DAY', field: 'day' },
          clustering: ['region'],
        }),
      );
      expect(
        await sink.write([{ id: 1, day: '2024-01-01', region: 'eu' }, { day: '2024-01-02' }], ctx),
      ).toMatchObject({
        failed: [{ index: 1 }],
      });
      await sink.close();
      expect(await schemaOf('explicit')).toEqual({ id: 'INT64', day: 'DATE', region: 'STRING' });
      expect(await ds.rows('explicit')).toEqual([{ id: 1, day: '2024-01-01', region: 'eu' }]);
    });
  });

  describe('upsert and delete with MERGE', () => {
    it('10,000 rows, then 1,000 updates and 100 deletes: the table equals the source', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'faucet-bq-merge-'));
      dirs.push(dir);
      const state = createFileStateStore({ path: dir });
      const config = ds.config('merged', {
        create_table: true,
        write_mode: 'upsert',
        key: ['id'],
        delete_marker: { field: 'deleted' },
        schema: [
          { name: 'id', type: 'INT64', mode: 'REQUIRED' },
          { name: 'name', type: 'STRING' },
          { name: 'amount', type: 'NUMERIC' },
          { name: 'deleted', type: 'BOOL' },
        ],
      });
      const source = new Map<number, FaucetRecord>();
      const initial: FaucetRecord[] = [];
      for (let id = 1; id <= 10_000; id++) {
        const row = { id, name: `name ${id}`, amount: `${id}.25`, deleted: false };
        initial.push(row);
        source.set(id, row);
      }
      const run = async (records: FaucetRecord[], pipeline: string) => {
        const sink = createBigQuerySink(config);
        try {
          return await runPipeline({
            source: memorySource({ records, pageSize: 2500 }),
            sink,
            state,
            pipeline,
            batchSize: 2500,
          });
        } finally {
          await sink.close();
        }
      };
      const first = await run(initial, 'merge_initial');
      expect(first.status, first.error?.message).toBe('ok');
      const changes: FaucetRecord[] = [];
      // 1,000 updates spread over the table (one of them twice in the batch: the last wins) and 100 deletes.
      for (let i = 0; i < 1000; i++) {
        const id = 1 + i * 10;
        const row = { id, name: `renamed ${id}`, amount: `${id * 2}.5`, deleted: false };
        changes.push(row);
        source.set(id, row);
      }
      changes.push({ id: 11, name: 'renamed twice', amount: '0.1', deleted: false });
      source.set(11, changes[changes.length - 1] as FaucetRecord);
      for (let i = 0; i < 100; i++) {
        const id = 5 + i * 97;
        changes.push({ id, deleted: true });
        source.delete(id);
      }
      const second = await run(changes, 'merge_changes');
      expect(second.status, second.error?.message).toBe('ok');
      const table = await ds.query(
        `SELECT id, name, CAST(amount AS STRING) AS amount FROM ${ds.table('merged')} ORDER BY id`,
      );
      const expected = [...source.values()]
        .sort((a, b) => Number(a.id) - Number(b.id))
        .map((r) => ({ id: String(r.id), name: r.name, amount: Number(r.amount).toFixed(9) }));
      expect(table.length).toBe(10_000 - 100);
      expect(table).toEqual(expected);
    });

    it('write_mode delete removes the keys it is given; a record without its key is a row error', async () => {
      const setup = createBigQuerySink(ds.config('deleting', { create_table: true }));
      await setup.write(
        [
          { id: 1, v: 'a' },
          { id: 2, v: 'b' },
          { id: 3, v: 'c' },
        ],
        ctx,
      );
      await setup.close();
      const sink = createBigQuerySink(ds.config('deleting', { write_mode: 'delete', key: ['id'] }));
      const result = await sink.write([{ id: 2 }, { v: 'no key' }, { id: 3, v: 'ignored' }], ctx);
      await sink.close();
      expect(result?.failed?.map((f) => f.index)).toEqual([1]);
      expect(await ds.rows('deleting')).toEqual([{ id: 1, v: 'a' }]);
    });

    it('an update leaves the columns a record does not carry as they were', async () => {
      const sink = createBigQuerySink(
        ds.config('partial', { create_table: true, write_mode: 'upsert', key: ['id'] }),
      );
      await sink.write(
        [
          { id: 1, a: 'a1', b: 'b1' },
          { id: 2, a: 'a2', b: 'b2' },
        ],
        ctx,
      );
      await sink.write(
        [
          { id: 1, a: 'A1' },
          { id: 2, b: null },
          { id: 3, b: 'b3' },
        ],
        ctx,
      );
      await sink.close();
      const back = await ds.query(`SELECT id, a, b FROM ${ds.table('partial')} ORDER BY id`);
      expect(back).toEqual([
        { id: '1', a: 'A1', b: 'b1' },
        { id: '2', a: 'a2', b: null },
        { id: '3', a: null, b: 'b3' },
      ]);
      // The staging table is dropped on close.
      const tables = await ds.call<{ tables?: { tableReference: { tableId: string } }[] }>(
        'GET',
        `/datasets/${ds.name}/tables`,
      );
      expect(
        (tables.tables ?? [])
          .map((t) => t.tableReference.tableId)
          .filter((t) => t.startsWith('partial_faucet_staging')),
      ).toEqual([]);
    });
  });
});
