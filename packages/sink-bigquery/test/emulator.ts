/**
 * The bqemulator of `scripts/services.sh` (FAUCET_TEST_BIGQUERY_ENDPOINT, project
 * FAUCET_TEST_BIGQUERY_PROJECT): tests that need it run when the variable is set, fail in CI (or with
 * FAUCET_REQUIRE_SERVICES=1) without it, and are skipped elsewhere, saying why. Each test file works
 * in a dataset of its own, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import type { FaucetRecord } from '@faucet/core';
import { describeWithService } from '@faucet/testkit';
import { BigQuery } from '@google-cloud/bigquery';
import { afterAll, beforeAll } from 'vitest';
import type { BigQuerySinkConfigInput } from '../src/index.js';

export const EMULATOR_ENDPOINT = process.env.FAUCET_TEST_BIGQUERY_ENDPOINT;
export const EMULATOR_PROJECT = process.env.FAUCET_TEST_BIGQUERY_PROJECT ?? 'test-project';

export function withEmulator(title: string, register: (endpoint: string) => void): void {
  describeWithService(
    {
      service: 'bqemulator (BigQuery REST emulator)',
      variable: 'FAUCET_TEST_BIGQUERY_ENDPOINT',
      hint: 'run `bash scripts/services.sh start bigquery && eval "$(bash scripts/services.sh env)"` at the repository root',
    },
    title,
    register,
  );
}

/** Send no credentials: the emulator wants none (and the metadata server is never probed). */
const noAuth = {
  getRequestHeaders: async () => new Headers(),
  getAccessToken: async () => ({ token: null }),
  request: async () => {
    throw new Error('unused');
  },
  on() {
    return noAuth;
  },
};

type Callback = (error: Error | null, body?: unknown) => void;

export interface EmulatorDataset {
  readonly name: string;
  readonly client: BigQuery;
  /** A sink config for a table of this dataset (no credentials, fast polls). */
  config(table: string, extra?: Partial<BigQuerySinkConfigInput>): BigQuerySinkConfigInput;
  /** Every row of a table, as JSON (TO_JSON_STRING: INT64 / NUMERIC come back as JSON numbers). */
  rows(table: string, columns?: string): Promise<FaucetRecord[]>;
  /** `project.dataset.table` in backticks, for SQL. */
  table(name: string): string;
  /** Run SQL; rows as objects of strings. */
  query(sql: string): Promise<Record<string, string | null>[]>;
  call<T>(method: string, uri: string, json?: unknown): Promise<T>;
}

/** A dataset of the emulator for this file, created in beforeAll and dropped in afterAll. */
export function useDataset(prefix: string): EmulatorDataset {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  let client: BigQuery | undefined;
  const get = (): BigQuery => {
    if (!client) throw new Error('the emulator dataset is not ready (beforeAll has not run)');
    return client;
  };
  const call = <T>(method: string, uri: string, json?: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      (get() as unknown as { request(o: unknown, cb: Callback): void }).request(
        { method, uri, ...(json === undefined ? {} : { json }) },
        (error, body) => (error ? reject(error) : resolve(body as T)),
      );
    });
  const query = async (sql: string): Promise<Record<string, string | null>[]> => {
    const result = await call<{
      schema?: { fields: { name: string }[] };
      rows?: { f: { v: string | null }[] }[];
      errors?: { message?: string }[];
    }>('POST', '/queries', { query: sql, useLegacySql: false, timeoutMs: 60_000 });
    // The emulator answers a failed query with 200 and `errors`.
    if (result.errors && result.errors.length > 0)
      throw new Error(`query failed: ${result.errors[0]?.message}\n${sql}`);
    const names = result.schema?.fields.map((f) => f.name) ?? [];
    return (result.rows ?? []).map((row) => Object.fromEntries(row.f.map((cell, i) => [names[i], cell.v])));
  };
  beforeAll(async () => {
    if (!EMULATOR_ENDPOINT) return;
    client = new BigQuery({
      projectId: EMULATOR_PROJECT,
      apiEndpoint: EMULATOR_ENDPOINT,
      authClient: noAuth as never,
      autoRetry: false,
    });
    await call('POST', '/datasets', { datasetReference: { projectId: EMULATOR_PROJECT, datasetId: name } });
  });
  afterAll(async () => {
    if (!client) return;
    await call('DELETE', `/datasets/${name}?deleteContents=true`).catch(() => {});
  });
  return {
    name,
    get client() {
      return get();
    },
    config: (table, extra = {}) => ({
      project_id: EMULATOR_PROJECT,
      dataset_id: name,
      table_id: table,
      auth: { type: 'none' },
      api_endpoint: EMULATOR_ENDPOINT ?? 'http://127.0.0.1:1',
      job_poll_ms: 50,
      retry: { max_attempts: 3, base_delay_ms: 50 },
      ...extra,
    }),
    async rows(table, columns = '*') {
      const rows = await query(
        `SELECT TO_JSON_STRING(t) AS j FROM (SELECT ${columns} FROM \`${EMULATOR_PROJECT}.${name}.${table}\`) AS t`,
      );
      return rows.map((row) => JSON.parse(row.j as string) as FaucetRecord);
    },
    table: (table) => `\`${EMULATOR_PROJECT}.${name}.${table}\``,
    query,
    call,
  };
}
