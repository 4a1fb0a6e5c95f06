/**
 * The @faucet/testkit battery against the real S3 server of scripts/services.sh: the records as JSON
 * Lines split over three objects, and as gzip CSV (typed) and Parquet in one object each.
 */

import { gzipSync } from 'node:zlib';
import { createCsvEncoder, createParquetEncoder, encodeJsonlText } from '@faucet/formats';
import s3Source, { type S3Source } from '@faucet/source-s3';
import { putObject, s3TestConnection, useBucket, withS3 } from '@faucet/test-support';
import { instantiate, testSource } from '@faucet/testkit';

const secretValue = 'not-the-real-secret-4711';
const closed = {
  bucket: 'nowhere',
  endpoint_url: 'http://127.0.0.1:1',
  access_key_id: 'AKIAEXAMPLE',
  secret_access_key: secretValue,
  max_attempts: 1,
};

withS3('s3 source conformance', () => {
  const bucket = useBucket('source-s3-conformance');
  const connection = { ...s3TestConnection(), bucket: bucket.name };
  let current: S3Source | undefined;
  const create = async (config: Record<string, unknown>) => {
    current = (await instantiate(s3Source, { ...connection, ...config })) as S3Source;
    return current;
  };
  const served = { served: () => current?.progress.records ?? 0 };
  const unreachable = {
    create: () => instantiate(s3Source, closed),
    host: '127.0.0.1',
    port: 1,
    password: secretValue,
  };

  testSource({
    name: 's3 (jsonl, three objects)',
    descriptor: s3Source,
    config: {
      valid: { bucket: 'b-1', prefix: 'data/' },
      invalid: { value: { bucket: 'b-1', secret_access_key: 'x' }, path: 'access_key_id' },
    },
    seed: async (records) => {
      const c = bucket.client();
      await putObject(c, bucket.name, 'jsonl/a.jsonl', encodeJsonlText(records.slice(0, 40)));
      await putObject(c, bucket.name, 'jsonl/b.jsonl', encodeJsonlText(records.slice(40, 80)));
      await putObject(c, bucket.name, 'jsonl/c.jsonl', encodeJsonlText(records.slice(80)));
    },
    create: () => create({ prefix: 'jsonl/' }),
    capabilities: {
      bookmarks: 'every-page',
      streaming: served,
      unreachable,
      secrets: { config: closed, secretValue },
    },
  });

  testSource({
    name: 's3 (csv.gz, typed)',
    dataset: {
      record: (i) => ({ id: i + 1, name: `row, "${i + 1}"`, score: (i * 7) % 13, ok: i % 2 === 0 }),
    },
    seed: async (records) => {
      const text = createCsvEncoder().encode([...records]);
      await putObject(bucket.client(), bucket.name, 'csv/rows.csv.gz', gzipSync(text));
    },
    create: () => create({ glob: 'csv/*.csv.gz', typed: true }),
    capabilities: { bookmarks: 'every-page', streaming: served },
  });

  testSource({
    name: 's3 (parquet, row groups of 16)',
    seed: async (records) => {
      const encoder = createParquetEncoder({ rowGroupSize: 16 });
      encoder.encode(records);
      const bytes = Buffer.concat([encoder.take(), encoder.finish()]);
      await putObject(bucket.client(), bucket.name, 'parquet/rows.parquet', bytes);
    },
    create: () => create({ prefix: 'parquet/' }),
    capabilities: { bookmarks: 'every-page', streaming: served },
  });
});
