/** The `file` sink's config, as a user writes it under `sink.config`, and how it may be used. */
import type { ConfigIssue, SinkUse } from '@faucet/core';
import { parquetWriteConfigShape } from '@faucet/formats';
import { z } from 'zod';

export const fileSinkConfigSchema = z
  .strictObject({
    path: z.string().min(1).describe('The file to write; parent directories are created'),
    format: z
      .enum(['jsonl', 'csv', 'parquet'])
      .optional()
      .describe(
        'jsonl (one JSON object per line), csv or parquet (mode: overwrite only); default: from the extension (.jsonl, .ndjson, .csv, .parquet)',
      ),
    mode: z
      .enum(['append', 'overwrite'])
      .default('append')
      .describe(
        'append: add to the file; overwrite: write a staging file and replace the file with it when ' +
          'the run ends well (not with a state store: each run must read everything)',
      ),
    compression: z
      .enum(['auto', 'gzip', 'none'])
      .default('auto')
      .describe('auto: gzip for *.gz paths (Parquet compresses its pages with SNAPPY instead)'),
    delimiter: z
      .string()
      .length(1, 'delimiter must be exactly one character')
      .refine((c) => c !== '\n' && c !== '\r' && c !== '"', 'delimiter cannot be a line break or a quote')
      .default(',')
      .describe('csv: field separator'),
    header: z
      .boolean()
      .default(true)
      .describe('csv: write a header row into an empty file (and take the columns from an existing one)'),
    on_unknown_field: z
      .enum(['error', 'ignore'])
      .default('error')
      .describe(
        'csv/parquet: a field that is not a column (columns come from the first batch or the existing header)',
      ),
    ...parquetWriteConfigShape(),
    buffer_bytes: z
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 * 1024)
      .default(1024 * 1024)
      .describe('Bytes of encoded records held before they are written to the file'),
    fsync: z
      .boolean()
      .default(true)
      .describe('flush() also fsyncs, so flushed rows survive a power loss (false: a process crash only)'),
  })
  .superRefine((config, ctx) => {
    const format = config.format ?? formatFromExtension(config.path);
    if (format === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['format'],
        message:
          `cannot tell the format of ${JSON.stringify(config.path)} from its extension; ` +
          'set format: jsonl | csv | parquet',
      });
    }
    if (format !== 'parquet') return;
    if (config.mode !== 'overwrite') {
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message:
          'a Parquet file cannot be appended to (it ends with a footer that indexes its row groups): ' +
          'use mode: overwrite, which writes a staging file and replaces the file when the run ends well; ' +
          'to add a file per run or per checkpoint, use the s3 sink',
      });
    }
    if (config.compression === 'gzip') {
      ctx.addIssue({
        code: 'custom',
        path: ['compression'],
        message: 'Parquet compresses inside the file: leave compression at auto (or none) for format parquet',
      });
    }
  });

export type FileSinkFormat = 'jsonl' | 'csv' | 'parquet';

/** `.jsonl`/`.ndjson`/`.csv`, optionally followed by `.gz`, or `.parquet`. */
export function formatFromExtension(path: string): FileSinkFormat | undefined {
  if (/\.parquet$/i.test(path)) return 'parquet';
  const match = /\.(jsonl|ndjson|csv)(?:\.gz)?$/i.exec(path);
  if (!match) return undefined;
  return (match[1] as string).toLowerCase() === 'csv' ? 'csv' : 'jsonl';
}

export type FileSinkConfig = z.infer<typeof fileSinkConfigSchema>;
export type FileSinkConfigInput = z.input<typeof fileSinkConfigSchema>;

/**
 * Overwrite mode replaces the file with what one run wrote. With a durable state store a run reads
 * only what is new since the last one, so after a complete run the next would replace the whole
 * output with just the new records (often none): refused, for the sink and for a dead-letter sink.
 */
export function fileSinkUseIssues(config: Pick<FileSinkConfig, 'mode'>, use: SinkUse): ConfigIssue[] {
  if (config.mode !== 'overwrite' || !use.durableState) return [];
  const message =
    use.role === 'dlq'
      ? 'overwrite cannot be used for a dead-letter file with a state store: each run would ' +
        'replace the file with its own failed records, and those of earlier runs are not read again. ' +
        'Use mode: append'
      : 'overwrite cannot be used with a state store: overwrite replaces the file with what one ' +
        'run wrote, and with a state store each run reads only what is new since the last one, so the ' +
        'run after a complete one would replace the file with just the new records (often none). Use ' +
        "mode: append to add each run's new records to the file, or remove the state store so that " +
        'every run reads everything and replaces the file';
  return [{ path: 'mode', message }];
}
