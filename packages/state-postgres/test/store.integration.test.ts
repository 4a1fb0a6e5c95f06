import { randomBytes } from 'node:crypto';
import process from 'node:process';
import { ErrorCodes, isFaucetError, type Logger } from '@faucet/core';
import { createPostgresStateStore, type PostgresStateStore } from '@faucet/state-postgres';
import { recordingLogger, refusal, sleep } from '@faucet/test-support';
import { Pool } from 'pg';
import { afterAll, afterEach, expect, it } from 'vitest';
import { describeWithPostgres, testPool } from './pg-env.js';

describeWithPostgres('state-postgres against a real PostgreSQL', (url) => {
  const run = randomBytes(4).toString('hex');
  const tables: string[] = [];
  const stores: PostgresStateStore[] = [];
  const admin = testPool(url);
  const schema = `faucet_test_${run}`;

  const open = (table: string, extra: { logger?: Logger; ensure_table?: boolean } = {}) => {
    if (!tables.includes(table)) tables.push(table);
    const { logger, ...settings } = extra;
    const store = createPostgresStateStore(
      { connection_url: url, table, ...settings },
      logger === undefined ? {} : { logger },
    );
    stores.push(store);
    return store;
  };

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });
  afterAll(async () => {
    for (const table of tables) await admin.query(`drop table if exists ${table}`);
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  });

  it('creates the documented table and upserts one row per key, moving updated_at', async () => {
    const table = `shape_${run}`;
    const store = open(table);
    await store.put('orders::row-0', { v: 1, bookmark: { id: 7 } });
    const columns = await admin.query(
      `select column_name, data_type, is_nullable, column_default from information_schema.columns
        where table_name = $1 order by ordinal_position`,
      [table],
    );
    expect(columns.rows).toEqual([
      { column_name: 'key', data_type: 'text', is_nullable: 'NO', column_default: null },
      { column_name: 'value', data_type: 'jsonb', is_nullable: 'NO', column_default: null },
      {
        column_name: 'updated_at',
        data_type: 'timestamp with time zone',
        is_nullable: 'NO',
        column_default: 'now()',
      },
    ]);
    const before = await admin.query(`select value, updated_at from ${table} where key = 'orders::row-0'`);
    await sleep(20);
    await store.put('orders::row-0', { v: 1, bookmark: { id: 8 } });
    const after = await admin.query(`select value, updated_at from ${table} where key = 'orders::row-0'`);
    expect(after.rows[0].value).toEqual({ v: 1, bookmark: { id: 8 } });
    expect(after.rows[0].updated_at.getTime()).toBeGreaterThan(before.rows[0].updated_at.getTime());
    expect((await admin.query(`select count(*)::int as n from ${table}`)).rows[0].n).toBe(1);
  });

  it('keeps tables apart, and supports a schema-qualified table', async () => {
    await admin.query(`create schema if not exists ${schema}`);
    const a = open(`iso_a_${run}`);
    const b = open(`${schema}.faucet_state`);
    await a.put('k::row-0', 'a');
    await b.put('k::row-0', 'b');
    expect(await a.get('k::row-0')).toBe('a');
    expect(await b.get('k::row-0')).toBe('b');
    await a.delete('k::row-0');
    expect(await b.list()).toEqual(['k::row-0']);
  });

  it('lists 2,500 keys exactly once each, sorted', async () => {
    const table = `many_${run}`;
    const store = open(table);
    await store.put('seed::row-0', 1); // creates the table
    const keys = Array.from({ length: 2_500 }, (_, i) => `bulk::row-${String(i).padStart(4, '0')}`);
    await admin.query(
      `insert into ${table} (key, value) select k, '{"n":1}'::jsonb from unnest($1::text[]) as k`,
      [keys],
    );
    expect(await store.list('bulk::')).toEqual(keys);
    expect(await store.list('bulk::row-12')).toEqual(keys.filter((k) => k.startsWith('bulk::row-12')));
    expect(await store.list()).toHaveLength(2_501);
  });

  it('matches a prefix literally: LIKE and glob characters are not wildcards', async () => {
    const store = open(`like_${run}`);
    await store.put('a_b::x', 1);
    await store.put('aXb::y', 2);
    await store.put('ab::z', 3);
    expect(await store.list('a_')).toEqual(['a_b::x']);
    for (const prefix of ['a%', 'a*', 'a?', '[a]', 'a\\', '%', '_', '*']) {
      expect(await store.list(prefix), `list("${prefix}")`).toEqual([]);
    }
    expect(await store.list('a')).toEqual(['aXb::y', 'a_b::x', 'ab::z']);
  });

  it('applies puts of one key in call order, even without awaiting them', async () => {
    const store = open(`order_${run}`);
    const puts = Array.from({ length: 30 }, (_, i) => store.put('k::row-0', { i }));
    await Promise.all(puts);
    expect(await store.get('k::row-0')).toEqual({ i: 29 });
  });

  it('creates the table once when several stores start at the same moment', async () => {
    const table = `race_${run}`;
    const racers = Array.from({ length: 6 }, () => open(table));
    await Promise.all(racers.map((store, i) => store.put(`k::row-${i}`, i)));
    expect(await racers[0]?.list()).toHaveLength(6);
  });

  it('says how to fix a missing table when ensure_table is false', async () => {
    const store = open(`missing_${run}`, { ensure_table: false });
    const error = await refusal(store.get('k::row-0'));
    expect(error.code).toBe(ErrorCodes.STATE_FAILED);
    expect(error.message).toContain(`missing_${run}`);
    expect(error.message).toContain('ensure_table: true');
  });

  it('refuses a value jsonb cannot hold with a StateError, keeping the old value', async () => {
    const store = open(`nul_${run}`);
    await store.put('k::row-0', 'old');
    const error = await refusal(store.put('k::row-0', 'has \u0000 inside'));
    expect(isFaucetError(error)).toBe(true);
    expect(error.code).toBe(ErrorCodes.STATE_FAILED);
    expect(await store.get('k::row-0')).toBe('old');
  });

  it('names its connections faucet:<pid>@<host> and refuses a second lock naming this process', async () => {
    const table = `lock_${run}`;
    const holder = open(table);
    const contender = open(table);
    const release = await holder.lock('job::row-0', 1_000);
    const sessions = await admin.query(
      `select application_name from pg_stat_activity where application_name like $1`,
      [`faucet:${process.pid}@%`],
    );
    expect(sessions.rows.length).toBeGreaterThan(0);
    const started = performance.now();
    const error = await refusal(contender.lock('job::row-0', 1_000));
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error.code).toBe(ErrorCodes.STATE_LOCKED);
    expect(error.message).toContain('"job::row-0"');
    expect(error.message).toMatch(new RegExp(`pid ${process.pid} on \\S+ \\(PostgreSQL backend \\d+`));
    expect(error.message).toContain('this process');
    // Session locks have no TTL: it is still held long after the TTL passed.
    await sleep(1_500);
    await expect(contender.lock('job::row-0', 1_000)).rejects.toMatchObject({
      code: ErrorCodes.STATE_LOCKED,
    });
    await release();
    await release();
    const again = await contender.lock('job::row-0', 1_000);
    await again();
  });

  it('loses the lock with its session: a terminated backend frees it; release() still resolves', async () => {
    const table = `session_${run}`;
    const logger = recordingLogger();
    const { warnings } = logger;
    const holder = open(table, { logger });
    const contender = open(table);
    const release = await holder.lock('job::row-0', 60_000);
    const terminated = await admin.query(
      `select pg_terminate_backend(l.pid) as done from pg_locks l where l.locktype = 'advisory'
          and ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0)`,
      ['job::row-0'],
    );
    expect(terminated.rows).toEqual([{ done: true }]);
    let taken: (() => Promise<void>) | undefined;
    for (let i = 0; i < 50 && !taken; i++) {
      taken = await contender.lock('job::row-0', 60_000).catch(() => undefined);
      if (!taken) await sleep(100);
    }
    expect(taken).toBeDefined();
    await sleep(100);
    expect(warnings.some((w) => w.includes('lost the connection holding a state lock'))).toBe(true);
    await release(); // the session is gone; this must not throw or touch the new holder's lock
    await expect(holder.lock('job::row-0', 60_000)).rejects.toMatchObject({ code: ErrorCodes.STATE_LOCKED });
    await taken?.();
    // The holder's pool still works after losing a connection.
    await holder.put('k::row-0', 1);
  });

  it('works on an injected pool and leaves it open on close()', async () => {
    const pool = new Pool({ connectionString: url, max: 3 });
    try {
      const table = `injected_${run}`;
      tables.push(table);
      const store = createPostgresStateStore({ table }, { pool });
      await store.put('k::row-0', { ok: true });
      expect(await store.get('k::row-0')).toEqual({ ok: true });
      await store.lock('k::row-0', 10_000);
      expect(pool.totalCount - pool.idleCount).toBe(1); // the lock keeps one client checked out
      await store.close();
      expect(pool.totalCount - pool.idleCount).toBe(0); // close() released the lock
      expect((await pool.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('closes the pool it made; later calls fail with a clear StateError', async () => {
    const store = createPostgresStateStore({ connection_url: url, table: `closed_${run}` });
    tables.push(`closed_${run}`);
    await store.put('k::row-0', 1);
    await store.close();
    await store.close();
    const error = await refusal(store.get('k::row-0'));
    expect(error.code).toBe(ErrorCodes.STATE_FAILED);
    expect(error.message).toContain('closed');
  });
});
