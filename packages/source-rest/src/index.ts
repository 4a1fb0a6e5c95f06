/**
 * @faucet/source-rest: read a REST API with pagination, auth, retries, incremental cursors, time
 * windows, conditional requests, concurrent partitions and TLS options. The default export is the plugin descriptor the CLI loads
 * (`type: rest`); the named exports serve programmatic use.
 */
import { connectorPackage, defineSource } from '@faucet/core';
import { type RestSourceConfig, restSourceConfigSchema } from './config.js';
import { createRestSource } from './source.js';

export {
  type RestSourceConfig,
  type RestSourceConfigInput,
  restSourceConfigSchema,
} from './config.js';
export { extractRecords, nextFromLinkHeader } from './pagination.js';
export { inferSchema } from './schema.js';
export { createRestSource, type RestSourceOptions } from './source.js';

export default defineSource<RestSourceConfig>({
  ...connectorPackage(import.meta.url),
  description: 'Reads a REST API: pagination, auth, retries, incremental cursors, windows, partitions, TLS',
  configSchema: restSourceConfigSchema,
  create(config, env) {
    return createRestSource(config, { logger: env.logger, redactor: env.redactor });
  },
});
