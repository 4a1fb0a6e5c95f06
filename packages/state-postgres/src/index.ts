/**
 * @faucet/state-postgres: a faucet state store on PostgreSQL. The default export is the plugin
 * descriptor the CLI loads (`state: { type: postgres, config: … }`); the named exports serve
 * programmatic use.
 */
import { connectorPackage, defineStateStore } from '@faucet/core';
import { type PostgresStateStoreConfig, postgresStateStoreConfigSchema } from './config.js';
import { createPostgresStateStore } from './store.js';

export {
  type PostgresStateStoreConfig,
  type PostgresStateStoreConfigInput,
  postgresStateStoreConfigSchema,
} from './config.js';
export {
  createPostgresStateStore,
  type PostgresStateStore,
  type PostgresStateStoreInput,
  type PostgresStateStoreOptions,
} from './store.js';

export default defineStateStore<PostgresStateStoreConfig>({
  ...connectorPackage(import.meta.url),
  description: 'Keeps state in a PostgreSQL table (one upserted row per key), with an advisory lock per key',
  configSchema: postgresStateStoreConfigSchema,
  create(config, env) {
    return createPostgresStateStore(config, env);
  },
});
