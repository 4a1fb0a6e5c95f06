/** The `s3` sink's config, as a user writes it under `sink.config`. */
import { credentialsIssue, s3ConnectionShape } from '@faucet/common-s3';
import { parquetWriteConfigShape } from '@faucet/formats';
import { z } from 'zod';
import { templateIssue } from './template.js';

export const s3SinkConfigSchema = z
  .strictObject({
    ...s3ConnectionShape,
    prefix: z.string().default('').describe('Prepended to every key (e.g. exports/)'),
    key_template: z
      .string()
      .min(1)
      .default('{pipeline}/{row}/dt={yyyy}-{mm}-{dd}/part-{seq}{ext}')
      .describe(
        'Key of each part file under prefix: {pipeline} {row} {yyyy} {mm} {dd} {hh} {seq} {ext}; {seq} is required',
      ),
    format: z.enum(['jsonl', 'csv', 'parquet']).default('jsonl').describe('jsonl, csv or parquet'),
    compression: z
      .enum(['gzip', 'none'])
      .default('gzip')
      .describe('jsonl/csv: gzip the parts (.gz); Parquet compresses its pages (SNAPPY) instead'),
    roll_records: z
      .number()
      .int()
      .min(1)
      .default(1_000_000)
      .describe('Start a new part after this many records (at-least-once delivery)'),
    roll_bytes: z
      .number()
      .int()
      .min(1024)
      .default(256 * 1024 * 1024)
      .describe('Start a new part after this many bytes were encoded (at-least-once delivery)'),
    roll_seconds: z
      .number()
      .int()
      .min(1)
      .default(900)
      .describe('Start a new part when the open one is this old (at-least-once delivery)'),
    part_size_bytes: z
      .number()
      .int()
      .min(5 * 1024 * 1024)
      .max(512 * 1024 * 1024)
      .default(8 * 1024 * 1024)
      .describe('Bytes per multipart upload part: memory holds about one part'),
    ...parquetWriteConfigShape(),
    on_unknown_field: z
      .enum(['error', 'ignore'])
      .default('error')
      .describe('csv/parquet: a field that is not a column of the part (columns come from its first batch)'),
    abandoned_upload_age_seconds: z
      .number()
      .int()
      .min(0)
      .default(3600)
      .describe(
        'Abort unfinished multipart uploads older than this under the key prefix at start (all of them when the prefix names {pipeline} and {row})',
      ),
  })
  .superRefine((config, ctx) => {
    const issue = credentialsIssue(config);
    if (issue) ctx.addIssue({ code: 'custom', ...issue });
    const problem = templateIssue(config.key_template);
    if (problem) ctx.addIssue({ code: 'custom', path: ['key_template'], message: problem });
  });

export type S3SinkConfig = z.infer<typeof s3SinkConfigSchema>;
export type S3SinkConfigInput = z.input<typeof s3SinkConfigSchema>;
