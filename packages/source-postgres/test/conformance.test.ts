/**
 * The @faucet/testkit battery against a real PostgreSQL: an incremental read of a table (keyset on
 * created_at, id), read through a cursor and through COPY, and of a query without primary keys. The
 * streaming probe counts the rows FETCHed through an injected pool, so it proves the cursor read pulls
 * one page at a time.
 */
import type { FaucetRecord } from '@faucet/core';
import postgresSource, { createPostgresSource, type PostgresPool } from '@faucet/source-postgres';
import { instantiate, testSource } from '@faucet/testkit';
import pg from 'pg';
import { afterAll } from 'vitest';
import { POSTGRES_URL, useSchema, withPostgres } from './helpers.js';

const schema = useSchema(POSTGRES_URL, 'src_conf');
const password = 'pw-Secret-4711';
const closedPort = { connection_url: `postgres://faucet:${password}@127.0.0.1:1/faucet`, table: 'items' };

let served = 0;
let countingPool: pg.Pool | undefined;
afterAll(async () => {
  await countingPool?.end();
});

/** A pool that counts the rows each FETCH brings back: what the source has pulled from the server. */
function fetchCountingPool(url: string): PostgresPool {
  countingPool ??= new pg.Pool({ connectionString: url, max: 4 });
  const inner = countingPool;
  return {
    async connect() {
      const client = await inner.connect();
      return {
        async query(query) {
          const result = await client.query(query as pg.QueryConfig);
          if (/^\s*FETCH/i.test(query.text)) served += result.rowCount ?? 0;
          return result;
        },
        release: (destroy) => client.release(destroy),
      };
    },
  };
}

async function seedTable(table: string, records: readonly FaucetRecord[]): Promise<void> {
  const pool = schema.pool();
  const qualified = `${pg.escapeIdentifier(schema.name)}.${pg.escapeIdentifier(table)}`;
  await pool.query(
    `CREATE TABLE ${qualified} (id int8 PRIMARY KEY, name text, amount float8, active boolean, ` +
      'created_at timestamptz NOT NULL, tags jsonb, note text)',
  );
  await pool.query({
    text:
      `INSERT INTO ${qualified} SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id int8, name text, ` +
      'amount float8, active boolean, created_at timestamptz, tags jsonb, note text)',
    values: [JSON.stringify(records)],
  });
}

const validConfig = { ...closedPort };
const shared = {
  descriptor: postgresSource,
  config: { valid: validConfig, invalid: { value: { ...validConfig, batch_size: 0 }, path: 'batch_size' } },
};
const unreachable = {
  create: () => instantiate(postgresSource, closedPort),
  host: '127.0.0.1',
  port: 1,
  password,
};

withPostgres('with PostgreSQL', (url) => {
  const incremental = {
    connection_url: url,
    table: `${schema.name}.items`,
    replication_method: { type: 'Incremental' as const, cursor_field: 'created_at' },
    primary_keys: ['id'],
  };
  testSource({
    name: 'postgres',
    ...shared,
    seed: (records) => seedTable('items', records),
    create: () =>
      createPostgresSource({ ...incremental, read_method: 'cursor' }, { pool: fetchCountingPool(url) }),
    capabilities: {
      bookmarks: 'every-page',
      streaming: { served: () => served },
      unreachable,
      secrets: { config: closedPort, secretValue: password },
    },
  });

  // The default read streams COPY's output, which the socket buffers a little ahead of the run: no
  // row count observes it from here, so streaming is proven by the integration test that holds a
  // page while the server waits to write the rest (source.integration.test.ts).
  testSource({
    name: 'postgres (COPY)',
    ...shared,
    seed: (records) => seedTable('copied', records),
    create: () => createPostgresSource({ ...incremental, table: `${schema.name}.copied` }),
    capabilities: {
      bookmarks: 'every-page',
      streaming: false,
      unreachable,
      secrets: { config: closedPort, secretValue: password },
    },
  });

  testSource({
    name: 'postgres (query, no primary keys)',
    ...shared,
    seed: (records) => seedTable('from_query', records),
    create: () =>
      createPostgresSource(
        {
          connection_url: url,
          query:
            'SELECT id, name, amount, active, created_at, tags, note ' +
            `FROM ${schema.name}.from_query WHERE id > $1; -- a trailing comment`,
          params: [0],
          replication_method: { type: 'Incremental', cursor_field: 'created_at' },
        },
        { pool: fetchCountingPool(url) },
      ),
    capabilities: {
      bookmarks: 'every-page',
      streaming: { served: () => served },
      unreachable,
      secrets: { config: closedPort, secretValue: password },
    },
  });
});
