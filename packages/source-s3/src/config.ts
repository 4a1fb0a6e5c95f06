/** The `s3` source's config, as a user writes it under `source.config`. */
import { credentialsIssue, s3ConnectionShape } from '@faucet/common-s3';
import { textReadConfigShape } from '@faucet/formats';
import { z } from 'zod';

export const s3SourceConfigSchema = z
  .strictObject({
    ...s3ConnectionShape,
    prefix: z.string().default('').describe('Only keys starting with this are listed (e.g. data/2026/)'),
    glob: z
      .string()
      .min(1)
      .optional()
      .describe('Keys must match this glob, e.g. data/2026-*/**/*.csv.gz (* within a /-segment, ** across)'),
    format: z
      .enum(['csv', 'jsonl', 'json', 'parquet'])
      .optional()
      .describe('csv, jsonl, json (an array of objects) or parquet; default: from each key extension'),
    compression: z
      .enum(['auto', 'gzip', 'none'])
      .default('auto')
      .describe('auto: gzip for keys ending in .gz (Parquet compresses inside the file)'),
    incremental: z
      .boolean()
      .default(true)
      .describe(
        'true: each run reads only objects new or changed since the bookmark; false: every run reads every matching object',
      ),
    lookback_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .default(0)
      .describe(
        'Also read objects up to this much older than the last one read, if not read yet (uploads that became visible late)',
      ),
    listing_window: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(10_000)
      .describe('Objects sorted in memory per listing pass; more pending objects take more passes'),
    max_objects: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Stop after reading this many objects in one run'),
    allow_empty: z
      .boolean()
      .default(false)
      .describe(
        'Succeed when no key matches prefix/glob at all (default: an error naming bucket and prefix)',
      ),
    batch_size: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe('Records per page; default: the pipeline batch size'),
    encoding: z.enum(['utf8', 'latin1']).default('utf8').describe('Text encoding of csv/jsonl/json objects'),
    ...textReadConfigShape('object', '(decompressed) bytes'),
  })
  .superRefine((config, ctx) => {
    const issue = credentialsIssue(config);
    if (issue) ctx.addIssue({ code: 'custom', ...issue });
    if (config.delimiter === config.quote) {
      ctx.addIssue({ code: 'custom', path: ['quote'], message: 'quote must differ from delimiter' });
    }
  });

export type S3SourceConfig = z.infer<typeof s3SourceConfigSchema>;
export type S3SourceConfigInput = z.input<typeof s3SourceConfigSchema>;
