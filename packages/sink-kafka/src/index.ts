/**
 * @faucet/sink-kafka: write records to Kafka topics (kafkajs): an idempotent producer with per-row
 * failures, or Kafka transactions for effectively-once delivery. The default export is the plugin
 * descriptor the CLI loads (`type: kafka`); the named exports serve programmatic use.
 */
import { connectorPackage, defineSink } from '@faucet/core';
import { type KafkaSinkConfig, kafkaSinkConfigSchema } from './config.js';
import { createKafkaSink } from './sink.js';

export { type KafkaSinkConfig, type KafkaSinkConfigInput, kafkaSinkConfigSchema } from './config.js';
export { createKafkaSink, type KafkaSink, type KafkaSinkOptions } from './sink.js';
export { TOKEN_TOPIC_CONFIG } from './tokens.js';

export default defineSink<KafkaSinkConfig>({
  ...connectorPackage(import.meta.url),
  description: 'Writes records to Kafka topics: idempotent producer, or transactions for effectively-once',
  configSchema: kafkaSinkConfigSchema,
  create(config, env) {
    return createKafkaSink(config, { logger: env.logger, redactor: env.redactor });
  },
});
