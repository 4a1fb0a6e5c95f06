/** The `file` source's config, as a user writes it under `source.config`. */
import { replicationMethodSchema } from '@faucet/core';
import { z } from 'zod';

const oneChar = (what: string) =>
  z
    .string()
    .length(1, `${what} must be exactly one character`)
    .refine((c) => c !== '\n' && c !== '\r', `${what} cannot be a line break`);

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
        'csv/jsonl/json: largest record in bytes (not counting its line break) before reading fails with an error naming ' +
          'the file, line and byte offset; bounds memory when a file lacks line breaks or leaves a quote open',
      ),
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
