/** Each endpoint of a REST API into the BigQuery table of its name; every run moves only what is new. */
import { createFileStateStore, type PipelineResult, runPipeline } from '@faucet/core';
import { createBigQuerySink } from '@faucet/sink-bigquery';
import { createRestSource } from '@faucet/source-rest';

export async function restToBigQuery(env = process.env): Promise<PipelineResult[]> {
  const state = createFileStateStore({ path: env.STATE_DIR ?? './.faucet/state' });
  const key = env.GOOGLE_APPLICATION_CREDENTIALS;
  const results: PipelineResult[] = [];
  for (const endpoint of ['tickets', 'customers']) {
    const source = createRestSource({
      base_url: env.API_URL ?? 'https://api.example.com',
      path: `/${endpoint}`,
      records_path: '$.data',
      pagination: { type: 'page_number', param: 'page', page_size: 100, page_size_param: 'per_page' },
      replication_method: { type: 'Incremental', cursor_field: 'updated_at' },
      cursor_param: 'updated_since',
    });
    const sink = createBigQuerySink({
      project_id: env.BIGQUERY_PROJECT ?? 'my-project',
      dataset_id: env.BIGQUERY_DATASET ?? 'support',
      table_id: endpoint,
      create_table: true,
      write_method: 'load',
      auth: key ? { type: 'service_account_key_path', path: key } : { type: 'application_default' },
      ...(env.BIGQUERY_API_ENDPOINT ? { api_endpoint: env.BIGQUERY_API_ENDPOINT } : {}),
    });
    const options = { source, sink, state, pipeline: 'support', row: endpoint, batchSize: 1000 };
    results.push(await runPipeline({ ...options, delivery: 'effectively_once' }).finally(() => sink.close()));
  }
  return results;
}

if (process.argv[1] === import.meta.filename) {
  for (const r of await restToBigQuery()) console.log(`${r.row}: ${r.status}, ${r.recordsWritten} written`);
}
