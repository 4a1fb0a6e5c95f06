/** The `file` source's config, as a user writes it under `source.config`. */
import { replicationMethodSchema } from '@faucet/core';
import { textReadConfigShape } from '@faucet/formats';
import { z } from 'zod';

export const fileSourceConfigSchema = z
  .strictObject({
    path: z
      .string()
      .min(1)
      .describe(
        'A file path or a glob such as data/*.csv or logs/**/*.jsonl.gz; files are read in sorted order',
      ),
    format: z
      .enum(['csv', 'jsonl', 'json', 'parquet'])
      .optional()
      .describe(
        'csv, jsonl (one object per line), json (an array of objects) or parquet; default: from each file extension',
      ),
    compression: z
      .enum(['auto', 'gzip', 'none'])
      .default('auto')
      .describe('auto: gzip for *.gz files (Parquet compresses inside the file)'),
    encoding: z.enum(['utf8', 'latin1']).default('utf8').describe('Text encoding of the files'),
    batch_size: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe('Records per page; default: the pipeline batch size'),
    ...textReadConfigShape('file'),
    replication_method: replicationMethodSchema,
    allow_empty: z
      .boolean()
      .default(false)
      .describe('Succeed with no records when nothing matches path (default: an error naming the pattern)'),
  })
  .refine((c) => c.delimiter !== c.quote, { message: 'quote must differ from delimiter', path: ['quote'] })
  .refine((c) => !(c.format === 'parquet' && c.compression === 'gzip'), {
    message: 'Parquet compresses inside the file: leave compression at auto (or none) for format parquet',
    path: ['compression'],
  });

export type FileSourceConfig = z.infer<typeof fileSourceConfigSchema>;
/** The config as written, before defaults. */
export type FileSourceConfigInput = z.input<typeof fileSourceConfigSchema>;
