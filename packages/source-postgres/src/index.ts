/**
 * @faucet/source-postgres: read a PostgreSQL table or query, streamed through COPY (or a cursor), full-table
 * or incrementally by keyset. The default export is the plugin descriptor the CLI loads
 * (`type: postgres`); the named exports serve programmatic use.
 */
import { connectorPackage, defineSource } from '@faucet/core';
import { type PostgresSourceConfig, postgresSourceConfigSchema } from './config.js';
import { createPostgresSource } from './source.js';

export type {
  PostgresClient,
  PostgresPool,
  PostgresPoolClient,
  PostgresQuery,
  PostgresQueryResult,
} from './client.js';
export {
  type PostgresSourceConfig,
  type PostgresSourceConfigInput,
  postgresSourceConfigSchema,
} from './config.js';
export { createPostgresSource, type PostgresSourceOptions } from './source.js';

export default defineSource<PostgresSourceConfig>({
  ...connectorPackage(import.meta.url),
  description:
    'Reads a PostgreSQL table or query, streamed through COPY (or a cursor), full-table or incrementally',
  configSchema: postgresSourceConfigSchema,
  create(config, env) {
    return createPostgresSource(config, { logger: env.logger, redactor: env.redactor });
  },
});
