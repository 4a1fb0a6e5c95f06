/**
 * @faucet/sink-file: records to a JSON Lines or CSV file, appended or atomically replaced, gzip by
 * extension. The default export is the plugin descriptor the CLI loads (`type: file`); the named
 * exports serve programmatic use.
 */
import { connectorPackage, defineSink } from '@faucet/core';
import { type FileSinkConfig, fileSinkConfigSchema, fileSinkUseIssues } from './config.js';
import { createFileSink } from './sink.js';

export {
  type FileSinkConfig,
  type FileSinkConfigInput,
  fileSinkConfigSchema,
  fileSinkUseIssues,
} from './config.js';
export { flushMarkPath } from './flush-mark.js';
export {
  type CloseOutcome,
  createFileSink,
  type FileSink,
  type FileSinkOptions,
  stagingPath,
} from './sink.js';

export default defineSink<FileSinkConfig>({
  ...connectorPackage(import.meta.url),
  description: 'Writes records to a JSON Lines or CSV file (append, or atomic overwrite), gzip by extension',
  configSchema: fileSinkConfigSchema,
  checkUse: fileSinkUseIssues,
  create(config, env) {
    return createFileSink(config, { logger: env.logger });
  },
});
