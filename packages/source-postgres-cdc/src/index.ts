/**
 * @faucet/source-postgres-cdc: PostgreSQL change data capture by logical replication (pgoutput).
 * The default export is the plugin descriptor the CLI loads (`type: postgres-cdc`); the named
 * exports serve programmatic use.
 */
import { connectorPackage, defineSource } from '@faucet/core';
import { type PostgresCdcConfig, postgresCdcConfigSchema } from './config.js';
import { createPostgresCdcSource } from './source.js';

export type { CdcBookmark, LsnBookmark, SnapshotBookmark } from './bookmark.js';
export {
  type PostgresCdcConfig,
  type PostgresCdcConfigInput,
  postgresCdcConfigSchema,
} from './config.js';
export { formatLsn, parseLsn } from './lsn.js';
export {
  createPostgresCdcSource,
  type PostgresCdcSource,
  type PostgresCdcSourceOptions,
  type SlotStatus,
} from './source.js';

export default defineSource<PostgresCdcConfig>({
  ...connectorPackage(import.meta.url),
  description: 'Streams PostgreSQL changes by logical replication (pgoutput), after an initial snapshot',
  configSchema: postgresCdcConfigSchema,
  create(config, env) {
    return createPostgresCdcSource(config, { logger: env.logger, redactor: env.redactor });
  },
});
