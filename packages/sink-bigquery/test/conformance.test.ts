/**
 * The @faucet/testkit battery against bqemulator, three ways: insertAll appending, load jobs
 * appending (effectively-once through job ids and job labels), and MERGE upserting by key.
 * reset() drops and re-creates the table; read() selects it back.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { FaucetRecord } from '@faucet/core';
import { instantiate, testSink } from '@faucet/testkit';
import bigquerySink from '../src/index.js';
import { EMULATOR_PROJECT, useDataset, withEmulator } from './emulator.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KEY_JSON = JSON.stringify({
  type: 'service_account',
  project_id: 'p',
  private_key_id: 'k-0123456789abcdef',
  private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  client_email: 'conformance@p.iam.gserviceaccount.com',
});
const closedPort = {
  project_id: 'p',
  dataset_id: 'd',
  table_id: 't',
  api_endpoint: 'http://127.0.0.1:1',
  auth: { type: 'service_account_key', json: KEY_JSON },
  retry: { max_attempts: 1 },
};
const descriptorConfig = {
  valid: closedPort,
  invalid: { value: { ...closedPort, write_mode: 'upsert' }, path: 'key' },
};

/** The columns of the testkit's default records. */
const FIELDS = [
  { name: 'id', type: 'INT64', mode: 'REQUIRED' },
  { name: 'name', type: 'STRING' },
  { name: 'amount', type: 'FLOAT64' },
  { name: 'active', type: 'BOOL' },
  { name: 'created_at', type: 'TIMESTAMP' },
  { name: 'tags', type: 'STRING', mode: 'REPEATED' },
  { name: 'note', type: 'STRING' },
];

withEmulator('with bqemulator', () => {
  const ds = useDataset('sink_conf');
  const variants = [
    {
      name: 'bigquery (insert_all, append)',
      table: 'streamed',
      config: {},
      effectivelyOnce: false,
      keyed: false,
    },
    {
      name: 'bigquery (load, append)',
      table: 'loaded',
      config: { write_method: 'load' },
      effectivelyOnce: true,
      keyed: false,
    },
    // MERGE by key is idempotent (keyed: a crash leaves no duplicates). Its effectively-once token
    // lives in the MERGE job's labels, which bqemulator drops from query jobs: checked on the fake
    // server instead (fake.test.ts).
    {
      name: 'bigquery (MERGE, upsert)',
      table: 'merged',
      config: { write_mode: 'upsert', key: ['id'] },
      effectivelyOnce: false,
      keyed: true,
    },
  ];

  for (const variant of variants) {
    const config = ds.config(variant.table, { ...(variant.config as object), job_poll_ms: 20 });
    testSink({
      name: variant.name,
      descriptor: bigquerySink,
      config: descriptorConfig,
      timeoutMs: 240_000,
      create: () => instantiate(bigquerySink, config),
      reset: async () => {
        await ds.call('DELETE', `/datasets/${ds.name}/tables/${variant.table}`).catch(() => {});
        await ds.call('POST', `/datasets/${ds.name}/tables`, {
          tableReference: { projectId: EMULATOR_PROJECT, datasetId: ds.name, tableId: variant.table },
          schema: { fields: FIELDS },
        });
      },
      capabilities: {
        read: async () => (await ds.rows(variant.table)) as FaucetRecord[],
        ...(variant.keyed ? { keyed: true } : {}),
        effectivelyOnce: variant.effectivelyOnce,
        // An INT64 id that is not a number: the sink refuses the row before sending it.
        rowFailures: {
          badRecord: (i: number) => ({ id: `not-a-number-${i}`, name: 'a row with a text id' }),
        },
        unreachable: {
          create: () => instantiate(bigquerySink, closedPort),
          host: '127.0.0.1',
          port: 1,
          password: KEY_JSON,
        },
        secrets: { config: closedPort, secretValue: KEY_JSON },
      },
    });
  }
});
