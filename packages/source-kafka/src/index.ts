/**
 * @faucet/source-kafka: read Kafka topics with a consumer group (kafkajs). The default export is the
 * plugin descriptor the CLI loads (`type: kafka`); the named exports serve programmatic use.
 */
import { connectorPackage, defineSource } from '@faucet/core';
import { type KafkaSourceConfig, kafkaSourceConfigSchema } from './config.js';
import { createKafkaSource } from './source.js';

export { BOOKMARK_KIND, type PartitionOffset } from './bookmark.js';
export {
  type KafkaSourceConfig,
  type KafkaSourceConfigInput,
  kafkaSourceConfigSchema,
} from './config.js';
export { createKafkaSource, type KafkaSource, type KafkaSourceOptions } from './source.js';

export default defineSource<KafkaSourceConfig>({
  ...connectorPackage(import.meta.url),
  description: 'Reads Kafka topics with a consumer group; per-partition offsets as the bookmark',
  configSchema: kafkaSourceConfigSchema,
  create(config, env) {
    return createKafkaSource(config, { logger: env.logger, redactor: env.redactor });
  },
});
