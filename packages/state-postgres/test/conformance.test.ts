import { randomBytes } from 'node:crypto';
import postgresStateStore from '@faucet/state-postgres';
import { instantiate, testStateStore } from '@faucet/testkit';
import { afterAll } from 'vitest';
import { describeWithPostgres, testPool } from './pg-env.js';

describeWithPostgres('state-postgres on a real PostgreSQL', (url) => {
  // A table of its own, so runs never see each other's keys.
  const table = `conformance_${randomBytes(4).toString('hex')}`;
  const config = { connection_url: url, table };
  const unreachable = { connection_url: 'postgres://faucet:unreachable-pw-7f3a@127.0.0.1:1/faucet' };

  afterAll(async () => {
    const pool = testPool(url);
    await pool.query(`drop table if exists ${table}`);
    await pool.end();
  });

  testStateStore({
    name: 'postgres',
    descriptor: postgresStateStore,
    config: { valid: config, invalid: { value: { ...config, table: 'no-dashes' }, path: 'table' } },
    create: () => instantiate(postgresStateStore, config),
    capabilities: {
      reopen: () => instantiate(postgresStateStore, config),
      unreachable: {
        create: () => instantiate(postgresStateStore, unreachable),
        host: '127.0.0.1',
        port: 1,
        password: 'unreachable-pw-7f3a',
      },
      secrets: {
        config: { connection_url: 'postgres://faucet:secret-pw-91c2@127.0.0.1:1/faucet' },
        secretValue: 'secret-pw-91c2',
      },
    },
  });
});
