/**
 * File names to formats and compression, and the decoder for a format. `.gz` means gzip, read and
 * written through node:zlib streams; the format comes from the extension under it
 * (`orders.csv.gz` is gzip-compressed CSV).
 */
import { pipeline, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, gzip } from 'node:zlib';
import { isFaucetError } from '@faucet/core';
import { type CsvDecodeOptions, decodeCsv } from './csv-decode.js';
import type { DecodedBatch } from './decode-common.js';
import { DecodeError } from './errors.js';
import { decodeJsonArray } from './json-array.js';
import { decodeJsonl } from './jsonl.js';
import type { ByteInput } from './text-chunks.js';

export type RecordFormat = 'csv' | 'jsonl' | 'json';
export type Compression = 'auto' | 'gzip' | 'none';

const EXTENSIONS: Record<string, RecordFormat> = {
  csv: 'csv',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  json: 'json',
};

/** True for `*.gz` (any case). */
export function isGzipPath(path: string): boolean {
  return /\.gz$/i.test(path);
}

/** `gzip` or `none` for a path: `auto` decides by the `.gz` extension. */
export function resolveCompression(path: string, compression: Compression = 'auto'): 'gzip' | 'none' {
  if (compression !== 'auto') return compression;
  return isGzipPath(path) ? 'gzip' : 'none';
}

/** The format named by a path's extension (`.csv`, `.jsonl`/`.ndjson`, `.json`, each optionally `.gz`). */
export function formatFromPath(path: string): RecordFormat | undefined {
  const bare = path.replace(/\.gz$/i, '');
  const dot = bare.lastIndexOf('.');
  const slash = Math.max(bare.lastIndexOf('/'), bare.lastIndexOf('\\'));
  if (dot <= slash + 1) return undefined;
  return EXTENSIONS[bare.slice(dot + 1).toLowerCase()];
}

export type FileFormat = RecordFormat | 'parquet';

/** `formatFromPath`, and `parquet` for `.parquet` (never gzip: Parquet compresses inside the file). */
export function fileFormatFromPath(path: string): FileFormat | undefined {
  return /\.parquet$/i.test(path) ? 'parquet' : formatFromPath(path);
}

/**
 * The decompressed bytes of `raw`: `raw` itself, or piped through gunzip (concatenated gzip members
 * are read as one stream). Errors of either stream surface on the returned one.
 */
export function decompressed(raw: Readable, compression: 'gzip' | 'none'): Readable {
  if (compression === 'none') return raw;
  return pipeline(raw, createGunzip(), () => {
    // Errors reach the consumer through the returned stream; nothing to do here.
  });
}

const gzipAsync = promisify(gzip);

/** One complete gzip member for `data` (zlib runs it off the main thread). */
export function gzipMember(data: Buffer | string, level = 6): Promise<Buffer> {
  return gzipAsync(data, { level });
}

export type DecodeRecordsOptions = CsvDecodeOptions;

/**
 * Decode `input` in `format`. Errors that are not already faucet errors (an I/O error, a corrupt gzip
 * stream) become DecodeErrors naming the input.
 */
export async function* decodeRecords(
  format: RecordFormat,
  input: ByteInput,
  options: DecodeRecordsOptions = {},
): AsyncGenerator<DecodedBatch, void, undefined> {
  const decoder =
    format === 'csv'
      ? decodeCsv(input, options)
      : format === 'jsonl'
        ? decodeJsonl(input, options)
        : decodeJsonArray(input, options);
  try {
    yield* decoder;
  } catch (error) {
    if (isFaucetError(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new DecodeError(`cannot read: ${message}`, { name: options.name ?? 'input', cause: error });
  }
}

/** Drop the first `count` bytes of a byte stream (resuming compressed input: offsets count decompressed bytes). */
export async function* skipBytes(
  input: AsyncIterable<Buffer>,
  count: number,
): AsyncGenerator<Buffer, void, undefined> {
  let left = count;
  for await (const chunk of input) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}
