/**
 * @faucet/sink-postgres: write records to a PostgreSQL table with multi-row INSERT or COPY, appending,
 * upserting or deleting by key, with per-row failures and effectively-once commits. The default export
 * is the plugin descriptor the CLI loads (`type: postgres`); the named exports serve programmatic use.
 */
import { connectorPackage, defineSink } from '@faucet/core';
import { type PostgresSinkConfig, postgresSinkConfigSchema } from './config.js';
import { createPostgresSink } from './sink.js';

export type { PostgresSinkPool } from './client.js';
export {
  type PostgresSinkConfig,
  type PostgresSinkConfigInput,
  postgresSinkConfigSchema,
} from './config.js';
export { createPostgresSink, type PostgresSink, type PostgresSinkOptions } from './sink.js';

export default defineSink<PostgresSinkConfig>({
  ...connectorPackage(import.meta.url),
  description: 'Writes records to a PostgreSQL table: INSERT or COPY; append, upsert or delete by key',
  configSchema: postgresSinkConfigSchema,
  create(config, env) {
    return createPostgresSink(config, { logger: env.logger, redactor: env.redactor });
  },
});
