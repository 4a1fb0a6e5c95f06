/**
 * @faucet/sink-bigquery: write records to a BigQuery table with streaming insertAll or load jobs,
 * appending, or upserting and deleting by key with MERGE; per-row failures for the DLQ and
 * effectively-once load jobs. The default export is the plugin descriptor the CLI loads
 * (`type: bigquery`); the named exports serve programmatic use.
 */
import { connectorPackage, defineSink } from '@faucet/core';
import { type BigQuerySinkConfig, bigquerySinkConfigSchema } from './config.js';
import { createBigQuerySink } from './sink.js';

export {
  type BigQuerySinkConfig,
  type BigQuerySinkConfigInput,
  bigquerySinkConfigSchema,
  type SchemaFieldInput,
} from './config.js';
export { type BigQuerySink, type BigQuerySinkOptions, createBigQuerySink } from './sink.js';

export default defineSink<BigQuerySinkConfig>({
  ...connectorPackage(import.meta.url),
  description:
    'Writes records to a BigQuery table: insertAll or load jobs; append, or upsert / delete by key with MERGE',
  configSchema: bigquerySinkConfigSchema,
  create(config, env) {
    return createBigQuerySink(config, { logger: env.logger, redactor: env.redactor });
  },
});
