/**
 * The @faucet/testkit battery against a real PostgreSQL (wal_level=logical). The dataset's records
 * are matched by the change record's `key` ({id}); the seeded rows arrive as the snapshot
 * (`op: read`), and resuming from a snapshot bookmark continues the keyset where it stopped.
 */
import postgresCdcSource, { createPostgresCdcSource } from '@faucet/source-postgres-cdc';
import { defaultRecord, instantiate, testSource } from '@faucet/testkit';
import pg from 'pg';
import { afterAll } from 'vitest';
import { POSTGRES_URL, useSchema, withPostgres } from './helpers.js';

const schema = useSchema(POSTGRES_URL, 'cdc_conf');
const slot = `${schema.name}_slot`;
const publication = `${schema.name}_pub`;
const password = 'pw-Secret-4711';
let served = 0;
const closedPort = {
  connection_url: `postgres://faucet:${password}@127.0.0.1:1/faucet`,
  slot_name: 'conformance',
  publication_name: 'conformance',
};

afterAll(async () => {
  if (!POSTGRES_URL) return;
  const client = new pg.Client(POSTGRES_URL);
  await client.connect();
  await client.query(
    'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  await client.query(`DROP PUBLICATION IF EXISTS ${publication}`);
  await client.end();
});

withPostgres('with PostgreSQL', (url) => {
  testSource({
    name: 'postgres-cdc',
    descriptor: postgresCdcSource,
    config: {
      valid: closedPort,
      invalid: { value: { ...closedPort, slot_name: 'Has-Capitals' }, path: 'slot_name' },
    },
    dataset: { key: 'key', record: (i) => ({ ...defaultRecord(i), key: { id: i + 1 } }) },
    seed: async (records) => {
      const pool = schema.pool();
      const table = `${schema.name}.items`;
      await pool.query(
        `CREATE TABLE ${table} (id int4 PRIMARY KEY, name text, amount float8, active boolean, ` +
          'created_at timestamptz NOT NULL, tags jsonb, note text)',
      );
      await pool.query({
        text:
          `INSERT INTO ${table} SELECT id, name, amount, active, created_at, tags, note FROM ` +
          'jsonb_to_recordset($1::jsonb) AS r(id int4, name text, amount float8, active boolean, ' +
          'created_at timestamptz, tags jsonb, note text)',
        values: [JSON.stringify(records)],
      });
      await pool.query(`CREATE PUBLICATION ${publication} FOR TABLE ${table}`);
    },
    create: () =>
      createPostgresCdcSource(
        {
          connection_url: url,
          slot_name: slot,
          publication_name: publication,
          idle_timeout: '300ms',
          heartbeat_interval: 0,
        },
        {
          onSnapshotFetch: (rows) => {
            served += rows;
          },
        },
      ),
    capabilities: {
      bookmarks: 'every-page',
      streaming: { served: () => served },
      unreachable: {
        create: () => instantiate(postgresCdcSource, closedPort),
        host: '127.0.0.1',
        port: 1,
        password,
      },
      secrets: { config: closedPort, secretValue: password },
    },
  });
});
