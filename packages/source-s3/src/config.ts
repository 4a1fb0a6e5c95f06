/** The `s3` source's config, as a user writes it under `source.config`. */
import { credentialsIssue, s3ConnectionShape } from '@faucet/common-s3';
import { z } from 'zod';

const oneChar = (what: string) =>
  z
    .string()
    .length(1, `${what} must be exactly one character`)
    .refine((c) => c !== '\n' && c !== '\r', `${what} cannot be a line break`);

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
    has_headers: z
      .boolean()
      .default(true)
      .describe('csv: the first row names the columns (else column_1..N)'),
    delimiter: oneChar('delimiter').default(',').describe('csv: field separator'),
    quote: oneChar('quote').default('"').describe('csv: quote character'),
    typed: z
      .boolean()
      .default(false)
      .describe('csv: convert integers, floats, true/false and empty fields (null); default: all strings'),
    flexible: z
      .boolean()
      .default(false)
      .describe('csv: accept rows with more or fewer fields than the header'),
    max_record_bytes: z
      .number()
      .int()
      .min(1)
      .max(512 * 1024 * 1024)
      .default(64 * 1024 * 1024)
      .describe(
        'csv/jsonl/json: largest record in (decompressed) bytes before reading fails with an error naming the ' +
          'object, line and byte offset; bounds memory when an object lacks line breaks or leaves a quote open',
      ),
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
