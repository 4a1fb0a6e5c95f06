/**
 * @faucet/sink-elasticsearch: write records to Elasticsearch with `_bulk`, appending, indexing,
 * upserting or deleting by key, with per-item failures for the DLQ, 429 back-pressure retries and
 * effectively-once commits. The default export is the plugin descriptor the CLI loads
 * (`type: elasticsearch`); the named exports serve programmatic use.
 */
import { connectorPackage, defineSink } from '@faucet/core';
import { type ElasticsearchSinkConfig, elasticsearchSinkConfigSchema } from './config.js';
import { createElasticsearchSink } from './sink.js';

export {
  type ElasticsearchSinkConfig,
  type ElasticsearchSinkConfigInput,
  elasticsearchSinkConfigSchema,
} from './config.js';
export { createElasticsearchSink, type ElasticsearchSink, type ElasticsearchSinkOptions } from './sink.js';

export default defineSink<ElasticsearchSinkConfig>({
  ...connectorPackage(import.meta.url),
  description: 'Writes records to Elasticsearch with _bulk: append, index, upsert or delete by key',
  configSchema: elasticsearchSinkConfigSchema,
  create(config, env) {
    return createElasticsearchSink(config, { logger: env.logger, redactor: env.redactor });
  },
});
