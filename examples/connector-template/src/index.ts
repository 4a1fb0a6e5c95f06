/**
 * faucet-source-example: a faucet source for a paginated JSON HTTP API. The default export is the
 * plugin descriptor the CLI loads (`type: example`); the named exports serve programmatic use.
 */
import { connectorPackage, defineSource } from '@faucet/core';
import { type ExampleSourceConfig, exampleSourceConfigSchema } from './config.js';
import { createExampleSource } from './source.js';

export { type ExampleSourceConfig, exampleSourceConfigSchema } from './config.js';
export { createExampleSource, type ExampleSourceOptions } from './source.js';

export default defineSource<ExampleSourceConfig>({
  ...connectorPackage(import.meta.url),
  description: 'Reads records from a paginated JSON HTTP API, incrementally by a cursor field',
  configSchema: exampleSourceConfigSchema,
  create(config, env) {
    return createExampleSource(config, { logger: env.logger });
  },
});
