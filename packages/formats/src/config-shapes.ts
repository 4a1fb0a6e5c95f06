/**
 * Config keys that every connector reading or writing these formats offers the same way (the file and
 * S3 sources and sinks), as zod shapes to spread into a connector's schema, so the keys, defaults and
 * messages are one thing.
 */
import { z } from 'zod';
import { DEFAULT_MAX_RECORD_BYTES } from './decode-common.js';

const oneChar = (what: string) =>
  z
    .string()
    .length(1, `${what} must be exactly one character`)
    .refine((c) => c !== '\n' && c !== '\r', `${what} cannot be a line break`);

/** The largest `max_record_bytes` a user may set. */
export const MAX_RECORD_BYTES_LIMIT = 512 * 1024 * 1024;

/**
 * CSV reading keys and `max_record_bytes`. `unit` names what is read in the messages ("file", "object");
 * `bytes` says how its bytes are counted.
 */
export function textReadConfigShape(unit: string, bytes = 'bytes') {
  return {
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
      .max(MAX_RECORD_BYTES_LIMIT)
      .default(DEFAULT_MAX_RECORD_BYTES)
      .describe(
        `csv/jsonl/json: largest record in ${bytes} (not counting its line break) before reading fails with an ` +
          `error naming the ${unit}, line and byte offset; bounds memory when a ${unit} lacks line breaks or ` +
          'leaves a quote open',
      ),
  };
}

/** Parquet writing keys: when a row group ends. */
export function parquetWriteConfigShape() {
  return {
    parquet_row_group_rows: z
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .default(50_000)
      .describe('parquet: rows per row group, at most'),
    parquet_row_group_bytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(1024 * 1024 * 1024)
      .default(16 * 1024 * 1024)
      .describe(
        'parquet: a row group also ends when its values reach about this many bytes (strings by length, ' +
          'numbers 8): memory stays flat however wide the rows',
      ),
  };
}
