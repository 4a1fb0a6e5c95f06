/**
 * @faucet/source-s3: objects in S3 or an S3-compatible store (CSV, JSON Lines, JSON arrays, Parquet;
 * gzip), streamed and read incrementally in (LastModified, key) order. The default export is the
 * plugin descriptor the CLI loads (`type: s3`); the named exports serve programmatic use.
 */
import { connectorPackage, defineSource } from '@faucet/core';
import { type S3SourceConfig, s3SourceConfigSchema } from './config.js';
import { createS3Source } from './source.js';

export { type ObjectInfo, type ObjectProgress, parseBookmark, type S3Bookmark } from './bookmark.js';
export { type S3SourceConfig, type S3SourceConfigInput, s3SourceConfigSchema } from './config.js';
export { createS3Source, type S3Source, type S3SourceOptions, type S3SourceProgress } from './source.js';

export default defineSource<S3SourceConfig>({
  ...connectorPackage(import.meta.url),
  description:
    'Reads objects from S3 or an S3-compatible store (csv, jsonl, json, parquet; gzip), incrementally',
  configSchema: s3SourceConfigSchema,
  create(config, env) {
    return createS3Source(config, { logger: env.logger });
  },
});
