/**
 * @faucet/source-file: CSV, JSON Lines and JSON-array files (a path or a glob, gzip by extension),
 * read incrementally. The default export is the plugin descriptor the CLI loads (`type: file`); the
 * named exports serve programmatic use.
 */
import { connectorPackage, defineSource } from '@faucet/core';
import { type FileSourceConfig, fileSourceConfigSchema } from './config.js';
import { createFileSource } from './source.js';

export { type FileBookmark, type FileProgress, parseBookmark } from './bookmark.js';
export { type FileSourceConfig, type FileSourceConfigInput, fileSourceConfigSchema } from './config.js';
export { inferSchema } from './schema.js';
export {
  createFileSource,
  type FileSource,
  type FileSourceOptions,
  type FileSourceProgress,
} from './source.js';

export default defineSource<FileSourceConfig>({
  ...connectorPackage(import.meta.url),
  description: 'Reads CSV, JSON Lines and JSON-array files (paths or globs, gzip), resuming by byte offset',
  configSchema: fileSourceConfigSchema,
  create(config, env) {
    return createFileSource(config, { logger: env.logger });
  },
});
