/**
 * @faucet/state-redis: a faucet state store on Redis. The default export is the plugin descriptor the
 * CLI loads (`state: { type: redis, config: … }`); the named exports serve programmatic use.
 */
import { connectorPackage, defineStateStore } from '@faucet/core';
import { type RedisStateStoreConfig, redisStateStoreConfigSchema } from './config.js';
import { createRedisStateStore } from './store.js';

export {
  type RedisStateStoreConfig,
  type RedisStateStoreConfigInput,
  redisStateStoreConfigSchema,
} from './config.js';
export {
  createRedisStateStore,
  type RedisStateStore,
  type RedisStateStoreInput,
  type RedisStateStoreOptions,
} from './store.js';

export default defineStateStore<RedisStateStoreConfig>({
  ...connectorPackage(import.meta.url),
  description: 'Keeps state in Redis under {namespace}:{key}, with a token lock per state key',
  configSchema: redisStateStoreConfigSchema,
  create(config, env) {
    return createRedisStateStore(config, env);
  },
});
