/**
 * Shared by the tests: the fake REST server (fake-bigquery.ts) with a dataset of its own per test,
 * sinks aimed at it (no credentials, fast retries and polls), and a logger that keeps what it saw.
 */
import { randomBytes } from 'node:crypto';
import { type BigQuerySinkConfigInput, createBigQuerySink } from '../src/index.js';
import type { FakeBigQuery } from './fake-bigquery.js';

export const PROJECT = 'test-project';

/** A dataset name no other test uses. */
export const uniqueName = (prefix: string): string => `${prefix}_${randomBytes(4).toString('hex')}`;

/** Settings that keep tests fast: no credentials, retries 10 ms apart, job polls every 10 ms. */
export function fakeConfig(
  fake: FakeBigQuery,
  dataset: string,
  extra: Partial<BigQuerySinkConfigInput> = {},
) {
  return {
    project_id: PROJECT,
    dataset_id: dataset,
    table_id: 'events',
    auth: { type: 'none' as const },
    api_endpoint: fake.url,
    retry: { max_attempts: 4, base_delay_ms: 10, jitter: false },
    job_poll_ms: 10,
    ...extra,
  } satisfies BigQuerySinkConfigInput;
}

export function fakeSink(fake: FakeBigQuery, dataset: string, extra: Partial<BigQuerySinkConfigInput> = {}) {
  return createBigQuerySink(fakeConfig(fake, dataset, extra));
}
