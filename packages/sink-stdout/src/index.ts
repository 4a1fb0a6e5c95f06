/**
 * @faucet/sink-stdout: records printed to stdout or stderr (JSON Lines, pretty JSON, CSV, TSV), with
 * a record limit for previews. The default export is the plugin descriptor the CLI loads
 * (`type: stdout`); the named exports serve programmatic use.
 */
import { connectorPackage, defineSink } from '@faucet/core';
import { type StdoutSinkConfig, stdoutSinkConfigSchema } from './config.js';
import { createStdoutSink } from './sink.js';

export { type StdoutSinkConfig, type StdoutSinkConfigInput, stdoutSinkConfigSchema } from './config.js';
export { createStdoutSink, type StdoutSink, type StdoutSinkOptions } from './sink.js';

export default defineSink<StdoutSinkConfig>({
  ...connectorPackage(import.meta.url),
  description: 'Prints records to stdout or stderr as JSON Lines, pretty JSON, CSV or TSV',
  configSchema: stdoutSinkConfigSchema,
  create(config, env) {
    return createStdoutSink(config, { logger: env.logger });
  },
});
