/**
 * The @faucet/testkit battery against the real S3 server of scripts/services.sh: gzip JSON Lines
 * parts and Parquet parts (which also report per-row failures: a value that does not fit its
 * column). read() decodes every visible part; reset() empties the prefix (markers included).
 */
import s3Sink from '@faucet/sink-s3';
import { emptyBucket, s3TestConnection, useBucket, withS3 } from '@faucet/test-support';
import { instantiate, testSink } from '@faucet/testkit';
import { readParts } from './helpers.js';

const secretValue = 'not-the-real-secret-4711';
const closed = {
  bucket: 'nowhere',
  endpoint_url: 'http://127.0.0.1:1',
  access_key_id: 'AKIAEXAMPLE',
  secret_access_key: secretValue,
  max_attempts: 1,
};

withS3('s3 sink conformance', () => {
  const bucket = useBucket('sink-s3-conformance');
  const connection = { ...s3TestConnection(), bucket: bucket.name };

  for (const variant of [
    { name: 's3 (jsonl.gz)', prefix: 'jsonl/', config: { format: 'jsonl' } },
    { name: 's3 (parquet)', prefix: 'parquet/', config: { format: 'parquet' } },
  ] as const) {
    const parquet = variant.config.format === 'parquet';
    testSink({
      name: variant.name,
      descriptor: s3Sink,
      config: {
        valid: { bucket: 'b-1' },
        invalid: { value: { bucket: 'b-1', key_template: 'part.jsonl' }, path: 'key_template' },
      },
      create: () => instantiate(s3Sink, { ...connection, prefix: variant.prefix, ...variant.config }),
      reset: () => emptyBucket(bucket.client(), bucket.name, variant.prefix),
      capabilities: {
        read: () => readParts(bucket.client(), bucket.name, variant.prefix),
        effectivelyOnce: true,
        ...(parquet ? { rowFailures: { badRecord: { id: 'not a number', name: 42 } } } : {}),
        unreachable: {
          create: () => instantiate(s3Sink, closed),
          host: '127.0.0.1',
          port: 1,
          password: secretValue,
        },
        secrets: { config: closed, secretValue },
      },
    });
  }
});
