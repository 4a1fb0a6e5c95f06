/** What a user of the postgres sink notices, against a real PostgreSQL: rows, types, keys, failures. */
import type { FaucetRecord, JsonObject, Logger, WriteContext } from '@faucet/core';
import { createPostgresSink, type PostgresSinkConfigInput } from '@faucet/sink-postgres';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { POSTGRES_URL, qualify, useSchema, withPostgres } from './helpers.js';

const schema = useSchema(POSTGRES_URL, 'sink_it');
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const ctx: WriteContext = { signal: new AbortController().signal, logger: silent };

async function errorOf(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

const failedIndexes = (result: unknown): number[] =>
  ((result as { failed?: { index: number }[] } | undefined)?.failed ?? []).map((f) => f.index);

withPostgres('postgres sink against a real server', (url) => {
  const s = schema.name;
  const sql = async <T extends object = Record<string, unknown>>(text: string, values: unknown[] = []) =>
    (await schema.pool().query<T & Record<string, unknown>>(text, values)).rows;
  const table = async (name: string, columns: string) => {
    await sql(`CREATE TABLE ${qualify(s, name)} (${columns})`);
    return `${s}.${name}`;
  };
  /** Write batches with a fresh sink, then close it. */
  async function write(
    config: Omit<PostgresSinkConfigInput, 'connection_url'>,
    ...batches: FaucetRecord[][]
  ): Promise<unknown[]> {
    const sink = createPostgresSink({ connection_url: url, ...config } as PostgresSinkConfigInput);
    try {
      const results: unknown[] = [];
      for (const batch of batches) results.push(await sink.write(batch, ctx));
      return results;
    } finally {
      await sink.close?.();
    }
  }
  const rowsOf = (name: string, order = 'id') =>
    sql<JsonObject>(`SELECT to_jsonb(_row) AS r FROM ${qualify(s, name)} _row ORDER BY ${order}`).then(
      (rows) => rows.map((row) => row.r as JsonObject),
    );

  describe('values', () => {
    it('converts JSON values back into the column types', async () => {
      const t = await table(
        'typed',
        'id int8 PRIMARY KEY, big int8, num numeric, f8 float8, b bool, ts timestamptz, tsn timestamp, ' +
          'd date, jb jsonb, js json, jb_str jsonb, ia int4[], ta text[], nested int4[], ja jsonb[], ' +
          'by bytea, u uuid, ' +
          'iv interval, t text',
      );
      await write({ table: t }, [
        {
          id: '9007199254740993',
          big: '-9007199254740993',
          num: '12345678901234567890.123456789',
          f8: 'NaN',
          b: true,
          ts: '2024-03-01T12:34:56.789123+02:00',
          tsn: '2024-03-01T12:34:56.5',
          d: '2024-03-01',
          jb: { a: [1, { b: null }] },
          js: [1, 'two'],
          jb_str: 'a plain string',
          ia: [1, null, 3],
          ta: ['a "quoted", thing', 'back\\slash', null, 'NULL', ''],
          nested: [
            [1, 2],
            [3, 4],
          ],
          ja: [{ k: 1 }, [2]],
          by: Buffer.from([0, 255, 10]).toString('base64'),
          u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
          iv: 'P1DT2H',
          t: { an: 'object' },
        },
      ]);
      const [row] = await sql(
        `SELECT id::text, big::text, num::text, f8::text, b, ts = '2024-03-01T10:34:56.789123Z' AS ts_ok,
                tsn::text, d::text, jb, js::text, jb_str, ia, ta, nested, ja::text[] AS ja,
                encode(by, 'hex') AS by,
                u::text, iv::text, t FROM ${qualify(s, 'typed')}`,
      );
      expect(row).toEqual({
        id: '9007199254740993',
        big: '-9007199254740993',
        num: '12345678901234567890.123456789',
        f8: 'NaN',
        b: true,
        ts_ok: true,
        tsn: '2024-03-01 12:34:56.5',
        d: '2024-03-01',
        jb: { a: [1, { b: null }] },
        js: '[1,"two"]',
        jb_str: 'a plain string',
        ia: [1, null, 3],
        ta: ['a "quoted", thing', 'back\\slash', null, 'NULL', ''],
        nested: [
          [1, 2],
          [3, 4],
        ],
        ja: ['{"k": 1}', '[2]'],
        by: '00ff0a',
        u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        iv: '1 day 02:00:00',
        t: '{"an":"object"}',
      });
    });

    it('COPY escapes tabs, newlines, backslashes and \\N; an empty string is not NULL', async () => {
      const t = await table('copied', 'id int PRIMARY KEY, t text, jb jsonb, ta text[]');
      const tricky = 'tab\there\nnew line\r\nback\\slash \\N é 😀';
      await write({ table: t, write_method: 'copy' }, [
        { id: 1, t: tricky, jb: { s: tricky }, ta: [tricky, null] },
        { id: 2, t: '', jb: null, ta: [] },
        { id: 3, t: '\\N', jb: 'str', ta: null },
        { id: 4, t: null },
      ]);
      expect(await rowsOf('copied')).toEqual([
        { id: 1, t: tricky, jb: { s: tricky }, ta: [tricky, null] },
        { id: 2, t: '', jb: null, ta: [] },
        { id: 3, t: '\\N', jb: 'str', ta: null },
        { id: 4, t: null, jb: null, ta: null },
      ]);
    });

    it('leaves columns a record lacks at their default (insert) or as they were (upsert)', async () => {
      const t = await table('partial', "id int PRIMARY KEY, a text, b text DEFAULT 'dflt'");
      await write({ table: t }, [
        { id: 1, a: 'x' },
        { id: 2, a: 'y', b: 'given' },
      ]);
      await write({ table: t, write_mode: 'upsert', key: ['id'] }, [{ id: 2, a: 'changed' }]);
      expect(await rowsOf('partial')).toEqual([
        { id: 1, a: 'x', b: 'dflt' },
        { id: 2, a: 'changed', b: 'given' },
      ]);
    });

    it('ignores fields without a column, warning once per field', async () => {
      const t = await table('unknown', 'id int PRIMARY KEY, a text');
      const warnings: unknown[] = [];
      const sink = createPostgresSink(
        { connection_url: url, table: t },
        { logger: { ...silent, warn: (message, fields) => warnings.push({ message, fields }) } },
      );
      await sink.write(
        [
          { id: 1, a: 'x', extra: 1 },
          { id: 2, extra: 2, more: true },
        ],
        ctx,
      );
      await sink.write([{ id: 3, extra: 3 }], ctx);
      await sink.close?.();
      expect(await rowsOf('unknown')).toEqual([
        { id: 1, a: 'x' },
        { id: 2, a: null },
        { id: 3, a: null },
      ]);
      expect(warnings).toEqual([
        {
          message: 'postgres sink: record fields without a column are not written',
          fields: { table: t, fields: ['extra'] },
        },
        {
          message: 'postgres sink: record fields without a column are not written',
          fields: { table: t, fields: ['more'] },
        },
      ]);
    });

    it('splits a batch that needs more than 65535 parameters into several statements', async () => {
      const columns = Array.from({ length: 80 }, (_, i) => `c${i} int`).join(', ');
      const t = await table('wide', `id int PRIMARY KEY, ${columns}`);
      const record = (id: number): FaucetRecord => {
        const r: FaucetRecord = { id };
        for (let i = 0; i < 80; i++) r[`c${i}`] = i;
        return r;
      };
      const batch = Array.from({ length: 1000 }, (_, i) => record(i + 1));
      expect(await write({ table: t, batch_size: 1000 }, batch)).toEqual([{}]);
      const [count] = await sql<{ n: number }>(
        `SELECT count(*)::int AS n, sum(c79)::int AS s FROM ${qualify(s, 'wide')}`,
      );
      expect(count).toEqual({ n: 1000, s: 79_000 });
    });
  });

  describe('write modes', () => {
    it('upsert: one row per key, the last record of a batch wins, int8 keys as number or text', async () => {
      const t = await table('up', 'id int8 PRIMARY KEY, v text');
      const [result] = await write({ table: t, write_mode: 'upsert', key: ['id'] }, [
        { id: 1, v: 'a' },
        { id: '1', v: 'b' },
        { id: 2, v: 'c' },
        { id: 1, v: 'last' },
      ]);
      expect(result).toEqual({});
      expect(await rowsOf('up')).toEqual([
        { id: 1, v: 'last' },
        { id: 2, v: 'c' },
      ]);
    });

    it('upsert by a composite key with a delete_marker: marked records delete, the rest upsert', async () => {
      const t = await table('cdc', 'tenant text, id int, v text, op text, PRIMARY KEY (tenant, id)');
      await write({ table: t, write_mode: 'upsert', key: ['tenant', 'id'] }, [
        { tenant: 'a', id: 1, v: 'x' },
        { tenant: 'a', id: 2, v: 'y' },
        { tenant: 'b', id: 1, v: 'z' },
      ]);
      await write(
        {
          table: t,
          write_mode: 'upsert',
          key: ['tenant', 'id'],
          delete_marker: { field: 'op', values: ['d'] },
        },
        [
          { tenant: 'a', id: 1, op: 'd' },
          { tenant: 'b', id: 1, v: 'z2', op: 'u' },
          { tenant: 'c', id: 3, v: 'new', op: 'c' },
          { tenant: 'c', id: 3, op: 'd' },
        ],
      );
      expect(await rowsOf('cdc', 'tenant, id')).toEqual([
        { tenant: 'a', id: 2, v: 'y', op: null },
        { tenant: 'b', id: 1, v: 'z2', op: 'u' },
      ]);
    });

    it('delete: removes the rows with the records’ keys', async () => {
      const t = await table('del', 'id int8 PRIMARY KEY, v text');
      await sql(`INSERT INTO ${qualify(s, 'del')} SELECT g, 'v' FROM generate_series(1, 5) g`);
      const [result] = await write({ table: t, write_mode: 'delete', key: ['id'] }, [
        { id: 2 },
        { id: '4', v: 'ignored' },
        { id: 99 },
      ]);
      expect(result).toEqual({});
      expect((await rowsOf('del')).map((r) => r.id)).toEqual([1, 3, 5]);
    });

    it('declares idempotent writes for upsert and delete only', () => {
      const base = { connection_url: url, table: 't' };
      expect(createPostgresSink(base).idempotentWrites).toBe(false);
      expect(createPostgresSink({ ...base, write_mode: 'upsert', key: ['id'] }).idempotentWrites).toBe(true);
      expect(createPostgresSink({ ...base, write_mode: 'delete', key: ['id'] }).idempotentWrites).toBe(true);
    });

    it('column_mapping jsonb: the whole record in one column, plus the key columns if any', async () => {
      const appendTable = await table('docs', 'data jsonb NOT NULL, at timestamptz DEFAULT now()');
      await write({ table: appendTable, column_mapping: { jsonb: 'data' } }, [
        { id: 1, nested: { a: [1] } },
        { x: 'y' },
      ]);
      expect(
        (await sql(`SELECT data FROM ${qualify(s, 'docs')} ORDER BY data->>'id'`)).map((r) => r.data),
      ).toEqual([{ id: 1, nested: { a: [1] } }, { x: 'y' }]);
      const keyed = await table('keyed_docs', 'id int PRIMARY KEY, doc jsonb NOT NULL');
      const config = {
        table: keyed,
        column_mapping: { jsonb: 'doc' },
        write_mode: 'upsert' as const,
        key: ['id'],
      };
      await write(
        config,
        [{ id: 1, v: 1 }],
        [
          { id: 1, v: 2 },
          { id: 2, v: 1 },
        ],
      );
      expect(await rowsOf('keyed_docs')).toEqual([
        { id: 1, doc: { id: 1, v: 2 } },
        { id: 2, doc: { id: 2, v: 1 } },
      ]);
    });

    it('create_table builds the table from the first batch', async () => {
      await write({ table: `${s}.made`, create_table: true, write_mode: 'upsert', key: ['id'] }, [
        { id: 1, n: 1.5, i: 2, s: 'x', o: { a: 1 }, l: [1], b: true, z: null },
        { id: 2, n: 3, i: 4, s: 'y', o: null, l: [], b: false, z: null },
      ]);
      const columns = await sql(
        'SELECT column_name AS c, data_type AS t, is_nullable AS n FROM information_schema.columns ' +
          'WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
        [s, 'made'],
      );
      expect(columns).toEqual([
        { c: 'id', t: 'bigint', n: 'NO' },
        { c: 'n', t: 'double precision', n: 'YES' },
        { c: 'i', t: 'bigint', n: 'YES' },
        { c: 's', t: 'text', n: 'YES' },
        { c: 'o', t: 'jsonb', n: 'YES' },
        { c: 'l', t: 'jsonb', n: 'YES' },
        { c: 'b', t: 'boolean', n: 'YES' },
        { c: 'z', t: 'text', n: 'YES' },
      ]);
      // The key became the primary key, so a second upsert replaces the row.
      await write({ table: `${s}.made`, create_table: true, write_mode: 'upsert', key: ['id'] }, [
        { id: 1, s: 'again' },
      ]);
      expect((await rowsOf('made')).map((r) => r.s)).toEqual(['again', 'y']);
    });
  });

  describe('per-row failures', () => {
    it('reports exactly the bad rows of a large batch and writes all the others', async () => {
      const t = await table('strict', 'id int PRIMARY KEY, n int NOT NULL, short varchar(3), CHECK (n >= 0)');
      const statements: string[] = [];
      const inner = new pg.Pool({ connectionString: url, max: 2 });
      const sink = createPostgresSink(
        { connection_url: url, table: t },
        {
          pool: {
            async connect() {
              const client = await inner.connect();
              const query = client.query.bind(client) as (q: unknown) => Promise<unknown>;
              return new Proxy(client, {
                get: (target, property, receiver) =>
                  property === 'query'
                    ? (q: unknown) => {
                        statements.push(typeof q === 'string' ? q : (q as { text: string }).text);
                        return query(q);
                      }
                    : Reflect.get(target, property, receiver),
              });
            },
          },
        },
      );
      const batch: FaucetRecord[] = Array.from({ length: 1000 }, (_, i) => ({
        id: i + 1,
        n: i,
        short: 'ok',
      }));
      batch[17] = { id: 18, n: null };
      batch[300] = { id: 301, n: 'not a number' };
      batch[301] = { id: 302, n: 1, short: 'too long' };
      batch[777] = { id: 778, n: -1 };
      batch[999] = { id: 1, n: 1 }; // duplicate key of row 0
      const result = await sink.write(batch, ctx);
      await sink.close?.();
      await inner.end();
      expect(failedIndexes(result)).toEqual([17, 300, 301, 777, 999]);
      const messages = (result as { failed: { error: Error }[] }).failed.map((f) => f.error.message);
      // Each row's reason: the SQLSTATE and the named column or value (the server's wording is not compared).
      expect(messages[0]).toMatch(/"n".*\(SQLSTATE 23502\)$/);
      expect(messages[1]).toMatch(/"not a number".*\(SQLSTATE 22P02\)$/);
      expect(messages[2]).toMatch(/\(SQLSTATE 22001\)$/);
      expect(messages[3]).toMatch(/\(SQLSTATE 23514\)$/);
      expect(messages[4]).toMatch(/\(id\)=\(1\).*\(SQLSTATE 23505\)$/);
      const [count] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${qualify(s, 'strict')}`);
      expect(count?.n).toBe(995);
      // The search costs a few statements per bad row (savepoints included), never one per row.
      expect(statements.filter((q) => q.startsWith('INSERT')).length).toBeLessThan(120);
    });

    it('rejects rows without a key before sending anything, in upsert and delete modes', async () => {
      const t = await table('needs_key', 'id int PRIMARY KEY, v text');
      const [result] = await write({ table: t, write_mode: 'upsert', key: ['id'] }, [
        { id: 1, v: 'a' },
        { v: 'no id' },
        { id: null, v: 'null id' },
      ]);
      expect(failedIndexes(result)).toEqual([1, 2]);
      expect((result as { failed: { error: Error }[] }).failed[0]?.error.message).toBe(
        'key field "id" is missing or null',
      );
      expect(await rowsOf('needs_key')).toEqual([{ id: 1, v: 'a' }]);
    });

    it('rejects values a column cannot take before sending them', async () => {
      const t = await table('bin', 'id int PRIMARY KEY, by bytea, ia int[]');
      const [result] = await write({ table: t }, [
        { id: 1, by: 'AAE=' },
        { id: 2, by: 'not base64!' },
        { id: 3, ia: { not: 'an array' } },
        { nothing: 'matches' },
      ]);
      expect(failedIndexes(result)).toEqual([1, 2, 3]);
      const messages = (result as { failed: { error: Error }[] }).failed.map((f) => f.error.message);
      expect(messages).toEqual([
        `postgres sink: "${t}" column "by": expected a base64 string for bytea`,
        `postgres sink: "${t}" column "ia": expected an array for column "ia" (integer[])`,
        `no field of the record matches a column of "${t}"`,
      ]);
    });
  });

  describe('effectively-once', () => {
    it('an empty page commits only its token, even before create_table has made the table', async () => {
      const sink = createPostgresSink({ connection_url: url, table: `${s}.not_yet`, create_table: true });
      await sink.writeIdempotent?.([], { scope: 'empty::row-0', token: 'e1' }, ctx);
      expect(await sink.lastCommittedToken?.('empty::row-0')).toBe('e1');
      await sink.writeIdempotent?.([{ id: 1 }], { scope: 'empty::row-0', token: 'e2' }, ctx);
      expect(await sink.lastCommittedToken?.('empty::row-0')).toBe('e2');
      await sink.close?.();
      expect(await rowsOf('not_yet')).toEqual([{ id: 1 }]);
    });

    it('commits rows and token together, in the target table’s schema', async () => {
      const t = await table('eo', 'id int PRIMARY KEY, v text');
      const sink = createPostgresSink({ connection_url: url, table: t });
      expect(await sink.lastCommittedToken?.('p::row-0')).toBeUndefined();
      await sink.writeIdempotent?.([{ id: 1, v: 'a' }], { scope: 'p::row-0', token: 't1' }, ctx);
      await sink.writeIdempotent?.([{ id: 2, v: 'b' }], { scope: 'p::row-0', token: 't2' }, ctx);
      await sink.writeIdempotent?.([], { scope: 'other::row-0', token: 'x1' }, ctx);
      expect(await sink.lastCommittedToken?.('p::row-0')).toBe('t2');
      expect(await sink.lastCommittedToken?.('other::row-0')).toBe('x1');
      expect(await sink.lastCommittedToken?.('unknown')).toBeUndefined();

      // A bad row fails the whole page: no rows, no token.
      const error = await errorOf(async () =>
        sink.writeIdempotent?.(
          [
            { id: 3, v: 'c' },
            { id: 1, v: 'duplicate' },
          ],
          { scope: 'p::row-0', token: 't3' },
          ctx,
        ),
      );
      expect(error).toMatchObject({ code: 'SINK_WRITE_FAILED', retryable: false });
      expect(error.message).toMatch(/rejected a row of an effectively-once page, so none of it was written/);
      expect(await sink.lastCommittedToken?.('p::row-0')).toBe('t2');
      expect((await rowsOf('eo')).map((r) => r.id)).toEqual([1, 2]);
      await sink.close?.();
      const tokens = await sql(
        `SELECT scope, token FROM ${qualify(s, '_faucet_commit_token')} WHERE scope <> 'empty::row-0' ` +
          'ORDER BY scope',
      );
      expect(tokens).toEqual([
        { scope: 'other::row-0', token: 'x1' },
        { scope: 'p::row-0', token: 't2' },
      ]);
    });
  });

  describe('connections and errors', () => {
    it('commits each write: rows are visible to others before flush()', async () => {
      const t = await table('visible', 'id int PRIMARY KEY');
      const sink = createPostgresSink({ connection_url: url, table: t });
      await sink.write([{ id: 1 }], ctx);
      expect(await rowsOf('visible')).toEqual([{ id: 1 }]);
      await sink.flush?.();
      await sink.close?.();
    });

    it('uses an injected client and leaves it open', async () => {
      const t = await table('injected', 'id int PRIMARY KEY');
      const client = new pg.Client(url);
      await client.connect();
      try {
        const sink = createPostgresSink({ connection_url: url, table: t, write_method: 'copy' }, { client });
        await sink.write([{ id: 1 }, { id: 2 }], ctx);
        await sink.close?.();
        expect(
          (await client.query(`SELECT count(*)::int AS n FROM ${qualify(s, 'injected')}`)).rows[0].n,
        ).toBe(2);
      } finally {
        await client.end();
      }
    });

    it('upsert without a unique index on the key fails naming the table and the key', async () => {
      const t = await table('no_unique', 'id int, v text');
      const error = await errorOf(() => write({ table: t, write_mode: 'upsert', key: ['id'] }, [{ id: 1 }]));
      expect(error).toMatchObject({ code: 'SINK_WRITE_FAILED' });
      expect(error.message).toContain(
        `table "${t}": upsert needs a primary key or unique index on exactly (id)`,
      );
      const check = await errorOf(async () =>
        createPostgresSink({ connection_url: url, table: t, write_mode: 'upsert', key: ['v'] }).check(),
      );
      expect(check.message).toContain('unique index on exactly (v)');
    });

    it('a missing table or key column is named', async () => {
      const missing = await errorOf(() => write({ table: `${s}.nope` }, [{ id: 1 }]));
      expect(missing.message).toContain(
        `table "${s}.nope" does not exist; create it or set create_table: true`,
      );
      const t = await table('keyless', 'id int PRIMARY KEY');
      const noKey = await errorOf(() =>
        write({ table: t, write_mode: 'delete', key: ['uuid'] }, [{ uuid: 1 }]),
      );
      expect(noKey.message).toContain('key column "uuid" is not a column of it');
      await expect(
        createPostgresSink({ connection_url: url, table: `${s}.later`, create_table: true }).check(),
      ).resolves.toBeUndefined();
    });

    it('an unreachable server is a ConnectionError naming host and port, without the password', async () => {
      const sink = createPostgresSink({
        connection_url: 'postgres://me:hunter2secret@127.0.0.1:1/db',
        table: 't',
      });
      const error = await errorOf(() => sink.write([{ id: 1 }], ctx));
      await sink.close?.();
      expect(error).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
      expect(error.message).toBe(
        'postgres sink: cannot reach 127.0.0.1:1 while writing 1 rows to "t" (ECONNREFUSED)',
      );
    });

    it('refuses configs that cannot work, listing every problem', () => {
      expect(() =>
        createPostgresSink({
          connection_url: url,
          table: 't',
          write_method: 'copy',
          write_mode: 'upsert',
          delete_marker: { field: 'op' },
          column_mapping: { jsonb: 'id' },
          key: ['id'],
        }),
      ).toThrow(
        /write_method: copy only appends[\s\S]*column_mapping\.jsonb: the jsonb column cannot also be a key/,
      );
      expect(() => createPostgresSink({ connection_url: url, table: 't', write_mode: 'delete' })).toThrow(
        /key: write_mode delete needs the key columns/,
      );
      expect(() =>
        createPostgresSink({
          connection_url: url,
          table: 't',
          write_mode: 'delete',
          key: ['id'],
          delete_marker: { field: 'x' },
        }),
      ).toThrow(/delete_marker needs write_mode upsert/);
    });
  });
});
