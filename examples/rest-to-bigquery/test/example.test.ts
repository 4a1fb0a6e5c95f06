/**
 * The example as a user runs it, against a local REST API (two endpoints, page_number pagination,
 * `updated_since`) and the fake BigQuery REST server of packages/sink-bigquery/test, with a
 * service-account key made for the test (the fake checks the signed JWT of every request):
 *
 * - the TypeScript embedding (src/embed.ts): the first run loads everything, the second only the
 *   records changed since, the third nothing;
 * - pipeline.yaml through the built CLI: the same.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CollectionRecord, type CollectionsServer, startCollectionsServer } from '@faucet/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeBigQuery } from '../../../packages/sink-bigquery/test/fake-bigquery.js';
import { restToBigQuery } from '../src/embed.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const EXAMPLE = resolve(HERE, '..');
const CLI = resolve(EXAMPLE, '../../apps/cli/dist/bin.js');
const PROJECT = 'example-project';

const ticket = (id: number, day: number, status = 'open'): CollectionRecord => ({
  id,
  updated_at: `2024-03-${String(day).padStart(2, '0')}T09:00:00Z`,
  subject: `ticket ${id}`,
  status,
  customer_id: `${9_007_199_254_740_993n + BigInt(id % 7)}`,
});
const customer = (id: number, day: number): CollectionRecord => ({
  id,
  updated_at: `2024-02-${String(day).padStart(2, '0')}T12:00:00Z`,
  name: `customer ${id}`,
  balance: `${id * 1000}.50`,
});

let api: CollectionsServer;
let fake: FakeBigQuery;
let dir: string;
let keyFile: string;

beforeAll(async () => {
  api = await startCollectionsServer();
  fake = await FakeBigQuery.start([PROJECT]);
  dir = mkdtempSync(join(tmpdir(), 'faucet-rest-bq-'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  keyFile = join(dir, 'key.json');
  writeFileSync(
    keyFile,
    JSON.stringify({
      type: 'service_account',
      project_id: PROJECT,
      private_key_id: 'example-key-1',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: 'faucet@example-project.iam.gserviceaccount.com',
    }),
  );
});
afterAll(async () => {
  await api.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The API's first state (250 tickets over 3 pages, 40 customers) and a later change. */
function seed(): void {
  api.set(
    'tickets',
    Array.from({ length: 250 }, (_, i) => ticket(i + 1, 1 + (i % 20))),
  );
  api.set(
    'customers',
    Array.from({ length: 40 }, (_, i) => customer(i + 1, 1 + (i % 20))),
  );
}
function change(): void {
  api.add('tickets', [ticket(251, 25), ticket(252, 26)]);
  // An existing ticket changed: it comes again (the load appends its new version).
  api.add('tickets', [ticket(7, 27, 'closed')]);
}

const envFor = (dataset: string, stateDir: string) => ({
  ...process.env,
  API_URL: api.url,
  BIGQUERY_PROJECT: PROJECT,
  BIGQUERY_DATASET: dataset,
  BIGQUERY_API_ENDPOINT: fake.url,
  GOOGLE_APPLICATION_CREDENTIALS: keyFile,
  STATE_DIR: stateDir,
});

function expectTables(dataset: string, tickets: number, customers: number): void {
  expect(fake.rows(PROJECT, dataset, 'tickets')).toHaveLength(tickets);
  expect(fake.rows(PROJECT, dataset, 'customers')).toHaveLength(customers);
  expect(fake.table(PROJECT, dataset, 'tickets')?.fields.map((f) => [f.name, f.type])).toEqual([
    ['id', 'INT64'],
    ['updated_at', 'TIMESTAMP'],
    ['subject', 'STRING'],
    ['status', 'STRING'],
    ['customer_id', 'INT64'],
  ]);
  // An int8 beyond 2^53 arrives as the exact string the API sent.
  expect(fake.rows(PROJECT, dataset, 'tickets')[0]?.customer_id).toBe('9007199254740994');
}

describe('examples/rest-to-bigquery', () => {
  it('the TypeScript embedding: everything, then only what changed, then nothing', async () => {
    seed();
    const dataset = 'embedded';
    fake.createDataset(PROJECT, dataset);
    const env = envFor(dataset, join(dir, 'embedded-state'));
    const written = async () => (await restToBigQuery(env)).map((r) => [r.row, r.status, r.recordsWritten]);
    expect(await written()).toEqual([
      ['tickets', 'ok', 250],
      ['customers', 'ok', 40],
    ]);
    expectTables(dataset, 250, 40);
    change();
    expect(await written()).toEqual([
      ['tickets', 'ok', 3],
      ['customers', 'ok', 0],
    ]);
    expectTables(dataset, 253, 40);
    expect(await written()).toEqual([
      ['tickets', 'ok', 0],
      ['customers', 'ok', 0],
    ]);
    // Every request carried a JWT signed with the service-account key.
    expect(fake.requests.every((r) => r.authorization?.startsWith('Bearer ey'))).toBe(true);
  });

  it('pipeline.yaml through the CLI: everything, then only what changed, then nothing', async () => {
    seed();
    const dataset = 'from_cli';
    fake.createDataset(PROJECT, dataset);
    const work = join(dir, 'cli');
    cpSync(join(EXAMPLE, 'pipeline.yaml'), join(work, 'pipeline.yaml'));
    const run = () =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
        const child = spawn(process.execPath, [CLI, 'run', 'pipeline.yaml', '--output', 'json'], {
          cwd: work,
          env: envFor(dataset, ''),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
        });
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        child.on('close', (code) => done({ code, stdout, stderr }));
      });
    const written = async () => {
      const result = await run();
      expect(result.code, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout) as {
        invocations: { row: string; records_written: number }[];
      };
      // Rows run concurrently: order them by name.
      return summary.invocations
        .map((i) => [i.row, i.records_written])
        .sort((a, b) => String(b[0]).localeCompare(String(a[0])));
    };
    expect(await written()).toEqual([
      ['tickets', 250],
      ['customers', 40],
    ]);
    expectTables(dataset, 250, 40);
    change();
    expect(await written()).toEqual([
      ['tickets', 3],
      ['customers', 0],
    ]);
    expectTables(dataset, 253, 40);
    expect(await written()).toEqual([
      ['tickets', 0],
      ['customers', 0],
    ]);
  });
});
