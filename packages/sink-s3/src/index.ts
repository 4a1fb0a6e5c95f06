/**
 * @faucet/sink-s3: part files in S3 or an S3-compatible store (jsonl, csv, Parquet; gzip), visible
 * only when complete, effectively-once by commit-token keys. The default export is the plugin
 * descriptor the CLI loads (`type: s3`); the named exports serve programmatic use.
 */
import { connectorPackage, defineSink } from '@faucet/core';
import { type S3SinkConfig, s3SinkConfigSchema } from './config.js';
import { createS3Sink } from './sink.js';

export { type S3SinkConfig, type S3SinkConfigInput, s3SinkConfigSchema } from './config.js';
export { markerKey } from './marker.js';
export { createS3Sink, type S3Sink, type S3SinkOptions, type S3SinkStats } from './sink.js';

export default defineSink<S3SinkConfig>({
  ...connectorPackage(import.meta.url),
  description:
    'Writes part files to S3 or an S3-compatible store (jsonl, csv, parquet; gzip), effectively-once',
  configSchema: s3SinkConfigSchema,
  create(config, env) {
    return createS3Sink(config, {
      logger: env.logger,
      ...(env.pipeline === undefined ? {} : { pipeline: env.pipeline }),
      ...(env.row === undefined ? {} : { row: env.row }),
    });
  },
});
