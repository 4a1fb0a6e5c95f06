/** The `stdout` sink's config, as a user writes it under `sink.config`. */
import { z } from 'zod';

export const stdoutSinkConfigSchema = z.strictObject({
  format: z
    .enum(['jsonl', 'pretty', 'csv', 'tsv'])
    .default('jsonl')
    .describe('jsonl: one JSON object per line; pretty: indented JSON; csv / tsv: a table with a header row'),
  destination: z.enum(['stdout', 'stderr']).default('stdout').describe('Which stream to print to'),
  max_records: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('Print at most this many records and drop the rest (previews); default: no limit'),
  header: z.boolean().default(true).describe('csv / tsv: print a header row first'),
});

export type StdoutSinkConfig = z.infer<typeof stdoutSinkConfigSchema>;
export type StdoutSinkConfigInput = z.input<typeof stdoutSinkConfigSchema>;
