/**
 * The @faucet/testkit battery against a real PostgreSQL, three ways: multi-row INSERT appending,
 * INSERT … ON CONFLICT upserting by key, and COPY appending. read() selects the rows back; reset()
 * truncates the table and forgets the commit tokens.
 */
import type { FaucetRecord } from '@faucet/core';
import postgresSink from '@faucet/sink-postgres';
import { instantiate, testSink } from '@faucet/testkit';
import { POSTGRES_URL, qualify, useSchema, withPostgres } from './helpers.js';

const schema = useSchema(POSTGRES_URL, 'sink_conf');
const password = 'pw-Secret-4711';
const closedPort = { connection_url: `postgres://faucet:${password}@127.0.0.1:1/faucet`, table: 'items' };
const descriptorConfig = {
  valid: closedPort,
  invalid: { value: { ...closedPort, write_mode: 'upsert' }, path: 'key' },
};

withPostgres('with PostgreSQL', (url) => {
  const variants = [
    { name: 'postgres (insert, append)', table: 'appended', config: {} },
    { name: 'postgres (insert, upsert)', table: 'upserted', config: { write_mode: 'upsert', key: ['id'] } },
    { name: 'postgres (copy, append)', table: 'copied', config: { write_method: 'copy' } },
  ] as const;

  for (const variant of variants) {
    const table = qualify(schema.name, variant.table);
    const keyed = 'write_mode' in variant.config;
    const config = { connection_url: url, table: `${schema.name}.${variant.table}`, ...variant.config };
    const created = async () => {
      // Created lazily (once) because the schema exists only after beforeAll.
      await schema.pool().query(
        // Append tables hold duplicates after a crash (at-least-once), so only upsert has a key.
        `CREATE TABLE IF NOT EXISTS ${table} (id int8 NOT NULL ${keyed ? 'PRIMARY KEY' : ''}, name text, ` +
          'amount float8, active boolean, ' +
          'created_at timestamptz, tags jsonb, note text)',
      );
    };
    let ready: Promise<void> | undefined;
    testSink({
      name: variant.name,
      descriptor: postgresSink,
      config: descriptorConfig,
      create: async () => {
        ready ??= created();
        await ready;
        return instantiate(postgresSink, config);
      },
      reset: async () => {
        ready ??= created();
        await ready;
        await schema.pool().query(`TRUNCATE ${table}`);
        await schema.pool().query(`DROP TABLE IF EXISTS ${qualify(schema.name, '_faucet_commit_token')}`);
      },
      capabilities: {
        read: async () => {
          const { rows } = await schema
            .pool()
            .query<{ r: FaucetRecord }>(`SELECT to_jsonb(_row) AS r FROM ${table} _row`);
          return rows.map((row) => row.r);
        },
        ...(keyed ? { keyed: true } : {}),
        effectivelyOnce: true,
        rowFailures: { badRecord: { id: null, name: 'a row without its key' } },
        unreachable: {
          create: () => instantiate(postgresSink, closedPort),
          host: '127.0.0.1',
          port: 1,
          password,
        },
        secrets: { config: closedPort, secretValue: password },
      },
    });
  }
});
