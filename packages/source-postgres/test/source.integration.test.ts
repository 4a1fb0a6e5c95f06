/** What a user of the postgres source notices, against a real PostgreSQL: rows, order, bookmarks, errors. */
import { type FaucetRecord, isFaucetError, type JsonValue, type Page } from '@faucet/core';
import postgresSource, {
  createPostgresSource,
  type PostgresSourceConfigInput,
} from '@faucet/source-postgres';
import { instantiate } from '@faucet/testkit';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { openRead, POSTGRES_URL, readAll, useSchema, withPostgres } from './helpers.js';

const schema = useSchema(POSTGRES_URL, 'src_it');

const ids = (pages: readonly Page[]): string[] => pages.flatMap((p) => p.records.map((r) => String(r.id)));
const range = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

async function errorOf(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

withPostgres('postgres source against a real server', (url) => {
  const s = schema.name;
  const sql = (text: string, values: unknown[] = []) => schema.pool().query(text, values);
  const source = (config: Omit<PostgresSourceConfigInput, 'connection_url'>) =>
    createPostgresSource({ connection_url: url, ...config } as PostgresSourceConfigInput);
  const read = async (
    config: Omit<PostgresSourceConfigInput, 'connection_url'>,
    options: { bookmark?: JsonValue; batchSize?: number } = {},
  ) => {
    const src = source(config);
    try {
      return await readAll(src, options);
    } finally {
      await src.close?.();
    }
  };

  beforeAll(async () => {
    // 30 rows whose cursor repeats in runs of 7: every page boundary of 4 cuts through a run.
    await sql(`CREATE TABLE ${s}.events (id int4 PRIMARY KEY, updated_at timestamptz NOT NULL, note text)`);
    await sql(
      `INSERT INTO ${s}.events SELECT g, '2024-01-01'::timestamptz + (g / 7) * interval '1 hour', 'n' || g ` +
        'FROM generate_series(1, 30) g',
    );
  });

  describe('type mapping', () => {
    it('maps every common type to JSON as documented', async () => {
      await sql(`CREATE TYPE ${s}.mood AS ENUM ('happy', 'sad')`);
      await sql(`CREATE TABLE ${s}.types (
        id int8 PRIMARY KEY, i2 int2, i4 int4, big int8, num numeric, num_nan numeric, f4 float4, f8 float8,
        f_nan float8, f_inf float8, b bool, t text, vc varchar(10), ts timestamptz, ts_micro timestamptz,
        tsn timestamp, d date, tm time, iv interval, j json, jb jsonb, jb_str jsonb, by bytea, u uuid,
        ia int4[], ta text[], ba int8[], ja jsonb[], tsa timestamptz[], m ${s}.mood, ma ${s}.mood[],
        nothing text)`);
      await sql(`INSERT INTO ${s}.types VALUES (
        1, -3, 2147483647, 9007199254740993, 12345678901234567890.123, 'NaN', 1.5, 0.1,
        'NaN', '-Infinity', true, 'héllo', 'short', '2024-03-01 12:34:56.789+02',
        '2024-03-01 00:00:00.000001+00', '2024-03-01 12:34:56.5', '2024-03-01', '12:34:56', '1 day 2 hours',
        '{"a": [1, 2]}', '{"b": {"c": null}}', '"just a string"', '\\x00ff41',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,NULL,3}', '{"a b","c\\"d",NULL}',
        '{9007199254740993}', ARRAY['{"k": 1}'::jsonb], ARRAY['2024-01-01 00:00:00+00'::timestamptz],
        'happy', '{sad,happy}', NULL)`);
      const [page] = await read({ table: `${s}.types` });
      expect(page?.records[0]).toEqual({
        id: '1',
        i2: -3,
        i4: 2147483647,
        big: '9007199254740993',
        num: '12345678901234567890.123',
        num_nan: 'NaN',
        f4: 1.5,
        f8: 0.1,
        f_nan: 'NaN',
        f_inf: '-Infinity',
        b: true,
        t: 'héllo',
        vc: 'short',
        ts: '2024-03-01T10:34:56.789Z',
        ts_micro: '2024-03-01T00:00:00.000001Z',
        tsn: '2024-03-01T12:34:56.5',
        d: '2024-03-01',
        tm: '12:34:56',
        iv: 'P1DT2H',
        j: { a: [1, 2] },
        jb: { b: { c: null } },
        jb_str: 'just a string',
        by: Buffer.from([0, 255, 65]).toString('base64'),
        u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        ia: [1, null, 3],
        ta: ['a b', 'c"d', null],
        ba: ['9007199254740993'],
        ja: [{ k: 1 }],
        tsa: ['2024-01-01T00:00:00Z'],
        m: 'happy',
        ma: ['sad', 'happy'],
        nothing: null,
      });
    });

    it('sets its parsers per query, leaving the global pg parsers alone', async () => {
      await read({ table: `${s}.events` });
      const client = new pg.Client(url);
      await client.connect();
      try {
        const { rows } = await client.query("SELECT '2024-01-01T00:00:00Z'::timestamptz AS ts");
        expect(rows[0].ts).toBeInstanceOf(Date);
      } finally {
        await client.end();
      }
    });
  });

  describe('Incremental', () => {
    const incremental = {
      table: `${s}.events`,
      replication_method: { type: 'Incremental' as const, cursor_field: 'updated_at' },
      primary_keys: ['id'],
    };

    it('orders by (cursor, key) and puts the last tuple read in every page', async () => {
      const pages = await read(incremental, { batchSize: 4 });
      expect(ids(pages)).toEqual(range(1, 30));
      expect(pages.every((p) => p.records.length <= 4 && p.bookmark !== undefined)).toBe(true);
      expect(pages[0]?.bookmark).toEqual({
        kind: 'keyset',
        table: `${s}.events`,
        columns: ['updated_at', 'id'],
        after: ['2024-01-01T00:00:00Z', 4],
      });
    });

    it('resumes strictly after any page, even inside a run of equal cursor values', async () => {
      const pages = await read(incremental, { batchSize: 4 });
      for (const [i, page] of pages.entries()) {
        const rest = await read(incremental, { bookmark: page.bookmark as JsonValue, batchSize: 4 });
        expect(ids(rest)).toEqual(ids(pages.slice(i + 1)));
      }
    });

    it('starts after start_value, strictly, on a first run only', async () => {
      const config = {
        ...incremental,
        replication_method: { ...incremental.replication_method, start_value: '2024-01-01T01:00:00Z' },
      };
      // Rows 7..13 have updated_at = 01:00, so the first run starts at row 14.
      expect(ids(await read(config))).toEqual(range(14, 30));
      const stored = {
        kind: 'keyset',
        table: `${s}.events`,
        columns: ['updated_at', 'id'],
        after: ['2024-01-01T00:00:00Z', 6],
      };
      expect(ids(await read(config, { bookmark: stored }))).toEqual(range(7, 30));
    });

    it('without primary keys, checkpoints only where the cursor value changes', async () => {
      const pages = await read(
        { table: `${s}.events`, replication_method: { type: 'Incremental', cursor_field: 'updated_at' } },
        { batchSize: 4 },
      );
      expect(pages.flatMap((p) => p.records)).toHaveLength(30);
      const withBookmark = pages.filter((p) => p.bookmark !== undefined);
      expect(withBookmark.length).toBeLessThan(pages.length);
      for (const [i, page] of pages.entries()) {
        const next = pages[i + 1]?.records[0];
        const last = page.records.at(-1) as FaucetRecord;
        if (page.bookmark === undefined) expect(next?.updated_at).toBe(last.updated_at);
        else {
          expect(page.bookmark).toEqual({
            kind: 'keyset',
            table: `${s}.events`,
            columns: ['updated_at'],
            after: [last.updated_at as JsonValue],
          });
          const rest = await read(
            { table: `${s}.events`, replication_method: { type: 'Incremental', cursor_field: 'updated_at' } },
            { bookmark: page.bookmark, batchSize: 4 },
          );
          expect(ids(rest).sort()).toEqual(ids(pages.slice(i + 1)).sort());
        }
      }
    });

    it('checkpoints every checkpoint_interval rows, and always on the last page', async () => {
      const pages = await read({ ...incremental, checkpoint_interval: 10 }, { batchSize: 4 });
      expect(pages.map((p) => p.bookmark !== undefined)).toEqual([
        false,
        false,
        true,
        false,
        false,
        true,
        false,
        true,
      ]);
    });

    it('re-reads the lookback window on a resumed run, never moving the bookmark back', async () => {
      const stored = {
        kind: 'keyset',
        table: `${s}.events`,
        columns: ['updated_at', 'id'],
        after: ['2024-01-01T02:00:00Z', 20],
      };
      const pages = await read({ ...incremental, lookback: '1 hour' }, { bookmark: stored, batchSize: 5 });
      // Everything after 01:00 comes back (14..20 again), then the rest.
      expect(ids(pages)).toEqual(range(14, 30));
      expect((pages[0]?.bookmark as { after: JsonValue[] }).after).toEqual(['2024-01-01T02:00:00Z', 20]);
      expect((pages.at(-1)?.bookmark as { after: JsonValue[] }).after).toEqual(['2024-01-01T04:00:00Z', 30]);
      const numeric = await read(
        {
          table: `${s}.events`,
          replication_method: { type: 'Incremental', cursor_field: 'id' },
          lookback: 3,
        },
        { bookmark: { kind: 'keyset', table: `${s}.events`, columns: ['id'], after: [25] } },
      );
      expect(ids(numeric)).toEqual(range(23, 30));
    });

    it('refuses a lookback that cannot be subtracted from the cursor', async () => {
      const error = await errorOf(() =>
        read(
          {
            table: `${s}.events`,
            replication_method: { type: 'Incremental', cursor_field: 'note' },
            lookback: 2,
          },
          { bookmark: { kind: 'keyset', table: `${s}.events`, columns: ['note'], after: ['n1'] } },
        ),
      );
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
      expect(error.message).toMatch(/cannot subtract 2 from cursor column "note" of type text/);
    });

    it('never reads rows whose cursor is NULL', async () => {
      await sql(`CREATE TABLE ${s}.nullable (id int PRIMARY KEY, ts timestamptz)`);
      await sql(`INSERT INTO ${s}.nullable VALUES (1, now()), (2, NULL), (3, now())`);
      const pages = await read({
        table: `${s}.nullable`,
        replication_method: { type: 'Incremental', cursor_field: 'ts' },
        primary_keys: ['id'],
      });
      expect(ids(pages).sort()).toEqual(['1', '3']);
    });

    it('reads a query with parameters, wrapped for the keyset filter and order', async () => {
      const pages = await read(
        {
          query: `SELECT id, updated_at FROM ${s}.events WHERE id % $1 = 0;`,
          params: [5],
          replication_method: { type: 'Incremental', cursor_field: 'updated_at' },
          primary_keys: ['id'],
        },
        {
          bookmark: { kind: 'keyset', columns: ['updated_at', 'id'], after: ['2024-01-01T01:00:00Z', 10] },
          batchSize: 2,
        },
      );
      expect(ids(pages)).toEqual(['15', '20', '25', '30']);
      expect(Object.keys(pages[0]?.records[0] ?? {})).toEqual(['id', 'updated_at']);
    });
  });

  describe('FullTable', () => {
    it('with primary keys: keyset pages, resumable on every page; the last completes the pass', async () => {
      const config = { table: `${s}.events`, primary_keys: ['id'] };
      const pages = await read(config, { batchSize: 8 });
      expect(ids(pages)).toEqual(range(1, 30));
      expect(pages.map((p) => p.bookmark)).toEqual([
        { kind: 'full_table', table: `${s}.events`, columns: ['id'], after: [8] },
        { kind: 'full_table', table: `${s}.events`, columns: ['id'], after: [16] },
        { kind: 'full_table', table: `${s}.events`, columns: ['id'], after: [24] },
        { kind: 'full_table', table: `${s}.events`, columns: ['id'], completed: true },
      ]);
      expect(ids(await read(config, { bookmark: pages[1]?.bookmark as JsonValue }))).toEqual(range(17, 30));
      // After a completed pass the next run reads everything again.
      expect(ids(await read(config, { bookmark: pages[3]?.bookmark as JsonValue }))).toEqual(range(1, 30));
    });

    it('ending on a full page, adds an empty page that marks the pass completed', async () => {
      const pages = await read({ table: `${s}.events`, primary_keys: ['id'] }, { batchSize: 10 });
      expect(pages.map((p) => p.records.length)).toEqual([10, 10, 10, 0]);
      expect(pages[3]?.bookmark).toMatchObject({ completed: true });
    });

    it('without primary keys: one pass, checkpointed only at its end', async () => {
      const pages = await read({ table: `${s}.events` }, { batchSize: 8 });
      expect(ids(pages).sort()).toEqual(range(1, 30).sort());
      expect(pages.map((p) => p.bookmark)).toEqual([
        undefined,
        undefined,
        undefined,
        { kind: 'full_table', table: `${s}.events`, columns: [], completed: true },
      ]);
    });

    it('refuses an incremental bookmark, saying how to start over', async () => {
      const error = await errorOf(() =>
        read(
          { table: `${s}.events`, primary_keys: ['id'] },
          {
            bookmark: {
              kind: 'keyset',
              table: `${s}.events`,
              columns: ['updated_at', 'id'],
              after: ['x', 1],
            },
          },
        ),
      );
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
      expect(error.message).toMatch(/keyset position, this read is full_table.*faucet state delete/);
    });
  });

  describe('streaming and connections', () => {
    it('with read_method cursor, fetches one page at a time from a large table', async () => {
      await sql(
        `CREATE TABLE ${s}.big AS SELECT g AS id, repeat('x', 100) AS pad FROM generate_series(1, 20000) g`,
      );
      await sql(`ALTER TABLE ${s}.big ADD PRIMARY KEY (id)`);
      let fetched = 0;
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      const src = createPostgresSource(
        { connection_url: url, table: `${s}.big`, primary_keys: ['id'], read_method: 'cursor' },
        {
          pool: {
            async connect() {
              const client = await pool.connect();
              return {
                async query(q) {
                  const result = await client.query(q as pg.QueryConfig);
                  if (q.text.startsWith('FETCH')) fetched += result.rowCount ?? 0;
                  return result;
                },
                release: (d) => client.release(d),
              };
            },
          },
        },
      );
      try {
        const iterator = openRead(src, { batchSize: 100 });
        const first = await iterator.next();
        expect(first.value?.records).toHaveLength(100);
        expect(fetched).toBe(100);
        await iterator.next();
        expect(fetched).toBe(200);
        await iterator.return?.();
        // The connection went back to the pool, its transaction rolled back.
        expect(pool.idleCount).toBe(1);
      } finally {
        await src.close?.();
        await pool.end();
      }
    });

    it('streams COPY: while the run holds a page the server waits to write; stopping early ends the COPY', async () => {
      await sql(
        `CREATE TABLE ${s}.copied AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 200000) g`,
      );
      await sql(`ALTER TABLE ${s}.copied ADD PRIMARY KEY (id)`);
      // This test's COPY only: other test files run COPYs of their own on the same server meanwhile.
      const copies = async () =>
        (
          await sql(
            "SELECT wait_event FROM pg_stat_activity WHERE application_name = 'faucet-source-postgres' " +
              "AND query LIKE 'COPY (%' AND position($1 in query) > 0 AND pid <> pg_backend_pid()",
            [`${pg.escapeIdentifier(s)}."copied"`],
          )
        ).rows as { wait_event: string | null }[];
      const src = source({ table: `${s}.copied`, primary_keys: ['id'] });
      try {
        const iterator = openRead(src, { batchSize: 100 });
        const first = await iterator.next();
        expect(first.value?.records.map((r: FaucetRecord) => Number(r.id))).toEqual(
          Array.from({ length: 100 }, (_, i) => i + 1),
        );
        // 40 MB of rows cannot all fit in the socket's buffers: the server blocks writing them.
        let waiting: { wait_event: string | null }[] = [];
        for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
          waiting = await copies();
          if (waiting[0]?.wait_event === 'ClientWrite') break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(waiting).toEqual([{ wait_event: 'ClientWrite' }]);
        // The process holds about a page, not the 40 MB table.
        expect(process.memoryUsage().heapUsed).toBeLessThan(200 * 1024 * 1024);
        await iterator.return?.();
        for (const deadline = Date.now() + 30_000; Date.now() < deadline && (await copies()).length > 0; ) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(await copies()).toEqual([]);
        // The source reads again, on a fresh connection, from a bookmark.
        const rest = await readAll(src, { bookmark: first.value?.bookmark ?? null, batchSize: 50_000 });
        expect(rest.reduce((n, p) => n + p.records.length, 0)).toBe(199_900);
        expect(rest[0]?.records[0]?.id).toBe(101);
      } finally {
        await src.close?.();
      }
    });

    it('a query failing in the middle of its COPY fails the read, naming the server error; the next read works', async () => {
      await sql(`CREATE TABLE ${s}.failing AS SELECT g AS id FROM generate_series(1, 5000) g`);
      const src = source({
        query: `SELECT id, 1 / (id - 4000) AS inverse FROM ${s}.failing`,
        replication_method: { type: 'Incremental', cursor_field: 'id' },
      });
      try {
        const error = await errorOf(() => readAll(src, { batchSize: 100 }));
        expect(error).toMatchObject({ code: 'SOURCE_FAILED' });
        expect(error.message).toContain('SQLSTATE 22012');
        expect(error.message).toContain('reading the query');
        const ok = await read({ table: `${s}.failing`, primary_keys: ['id'] });
        expect(ok.reduce((n, p) => n + p.records.length, 0)).toBe(5000);
      } finally {
        await src.close?.();
      }
    });

    it('refuses read_method copy on an injected client, which it could not close to stop a COPY', () => {
      const client = new pg.Client(url);
      expect(() =>
        createPostgresSource({ connection_url: url, table: `${s}.events`, read_method: 'copy' }, { client }),
      ).toThrow(/read_method.*not an injected client/s);
    });

    it('uses an injected client and leaves it open', async () => {
      const client = new pg.Client(url);
      await client.connect();
      try {
        const src = createPostgresSource({ connection_url: url, table: `${s}.events` }, { client });
        expect(ids(await readAll(src)).sort()).toEqual(range(1, 30).sort());
        await src.close?.();
        const { rows } = await client.query('SELECT 1 AS one');
        expect(rows[0].one).toBe(1);
      } finally {
        await client.end();
      }
    });

    it('stops reading when the run is cancelled', async () => {
      const controller = new AbortController();
      const src = source({ table: `${s}.events`, primary_keys: ['id'] });
      const pages: Page[] = [];
      for await (const page of src.read({
        bookmark: undefined,
        batchSize: 5,
        signal: controller.signal,
        logger: console,
      })) {
        pages.push(page);
        controller.abort();
      }
      await src.close?.();
      expect(pages).toHaveLength(1);
    });
  });

  describe('check, discover and errors', () => {
    it('check() passes for a readable table and a query with the key columns', async () => {
      await expect(source({ table: `${s}.events`, primary_keys: ['id'] }).check?.()).resolves.toBeUndefined();
      await expect(
        source({
          query: `SELECT * FROM ${s}.events WHERE id > $1`,
          params: [3],
          replication_method: { type: 'Incremental', cursor_field: 'updated_at' },
        }).check?.(),
      ).resolves.toBeUndefined();
    });

    it('check() names a missing table and a missing key column', async () => {
      const missing = await errorOf(async () => source({ table: `${s}.nope` }).check?.());
      expect(missing).toMatchObject({ code: 'SOURCE_FAILED' });
      expect(missing.message).toContain(`table "${s}.nope" does not exist`);
      const noColumn = await errorOf(async () =>
        source({
          table: `${s}.events`,
          replication_method: { type: 'Incremental', cursor_field: 'changed' },
        }).check?.(),
      );
      expect(noColumn.message).toContain('has no column "changed"');
    });

    it('discover() lists tables with columns, types and primary keys', async () => {
      const src = source({ table: `${s}.events` });
      const streams = await src.discover?.();
      await src.close?.();
      const events = streams?.find((d) => d.name === `${s}.events`);
      expect(events).toMatchObject({
        primaryKeys: ['id'],
        cursorFields: ['updated_at'],
        schema: {
          type: 'object',
          properties: {
            id: { type: 'integer', 'x-postgres-type': 'integer' },
            updated_at: {
              type: 'string',
              format: 'date-time',
              'x-postgres-type': 'timestamp with time zone',
            },
            note: { type: ['string', 'null'], 'x-postgres-type': 'text' },
          },
        },
      });
      expect(
        streams?.some((d) => d.name.startsWith('pg_catalog.') || d.name.startsWith('information_schema.')),
      ).toBe(false);
    });

    it('bad SQL is a SourceError with the server message and SQLSTATE', async () => {
      const error = await errorOf(() => read({ query: 'SELECT * FROM no_such_table_anywhere' }));
      expect(isFaucetError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'SOURCE_FAILED', connector: 'postgres' });
      expect(error.message).toMatch(/"no_such_table_anywhere".*\(SQLSTATE 42P01\)/);
    });

    it('two result columns with one name are refused', async () => {
      const error = await errorOf(() => read({ query: `SELECT id, id FROM ${s}.events` }));
      expect(error.message).toContain('two columns named "id"');
    });

    it('refused credentials are an AuthError that does not show the password', async () => {
      // The test cluster trusts every password, but an unknown role is refused (SQLSTATE 28000).
      const target = new URL(url);
      target.username = 'faucet_no_such_role';
      target.password = 'wrong-pw-123';
      const src = await instantiate(postgresSource, { connection_url: target.toString(), table: 't' });
      const error = await errorOf(async () => src.check?.());
      await src.close?.();
      expect(error).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
      expect(error.message).toMatch(/"faucet_no_such_role".*\(SQLSTATE 28000\)/);
      expect(error.message).toMatch(/127\.0\.0\.1:\d+/);
      expect(JSON.stringify({ m: error.message, s: error.stack, c: String(error.cause) })).not.toContain(
        'wrong-pw-123',
      );
    });

    it('an unreachable server is a ConnectionError naming host and port, without the password', async () => {
      const error = await errorOf(() =>
        readAll(
          createPostgresSource({ connection_url: 'postgres://me:hunter2secret@127.0.0.1:1/db', table: 't' }),
        ),
      );
      expect(error).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
      expect(error.message).toBe('postgres source: cannot reach 127.0.0.1:1 while connecting (ECONNREFUSED)');
    });
  });
});
