/**
 * A streaming Parquet decoder (hyparquet underneath). Parquet is read by range, not front to back:
 * the footer (schema and row-group index) at the end first, then one row group at a time, so memory
 * holds one row group and never the file. Any input that can read a byte range works: a local file
 * (`parquetFileInput`) or an object store (ranged GETs). Batches report `row`, the rows of the file
 * before the next record, and a resumed read (`startRow`) skips whole row groups by the footer
 * without reading them. SNAPPY, GZIP, ZSTD, BROTLI, LZ4 and uncompressed pages are read.
 */
import { open } from 'node:fs/promises';
import type { FaucetRecord, JsonValue } from '@faucet/core';
import type { FileMetaData } from 'hyparquet';
import { DEFAULT_BATCH_SIZE } from './decode-common.js';
import { DecodeError } from './errors.js';
import { jsonFromParquet } from './parquet-values.js';

/** Random access to the bytes of one Parquet file. */
export interface ParquetInput {
  byteLength: number;
  /** Bytes `start` (inclusive) to `end` (exclusive). */
  read(start: number, end: number): Promise<Uint8Array>;
}

export interface ParquetDecodeOptions {
  /** The input's name in errors (a path or `s3://bucket/key`). */
  name?: string;
  batchSize?: number;
  /** Asked before each batch instead of `batchSize` (see DecodeOptions.nextBatchSize). */
  nextBatchSize?: () => number;
  /** Rows of the file to skip (resuming): whole row groups are skipped without being read. */
  startRow?: number;
}

export interface ParquetBatch {
  records: FaucetRecord[];
  /** Rows of the file before the next record: reading again with `startRow: row` yields the rest. */
  row: number;
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}

/** A local file as a ParquetInput (the handle is opened per read: no descriptor is left open). */
export async function parquetFileInput(path: string): Promise<ParquetInput> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return {
      byteLength: size,
      async read(start, end) {
        const file = await open(path, 'r');
        try {
          const buf = Buffer.alloc(end - start);
          let done = 0;
          while (done < buf.length) {
            const { bytesRead } = await file.read(buf, done, buf.length - done, start + done);
            if (bytesRead === 0) break;
            done += bytesRead;
          }
          return buf.subarray(0, done);
        } finally {
          await file.close();
        }
      },
    };
  } finally {
    await handle.close();
  }
}

/**
 * hyparquet and its compressors (about 50 modules), imported on the first Parquet read only: every
 * program that loads @faucet/formats for CSV or JSON Lines would otherwise pay their start-up.
 */
let parquetLibraries:
  | Promise<[typeof import('hyparquet'), typeof import('hyparquet-compressors')]>
  | undefined;
const loadParquetLibraries = () => {
  parquetLibraries ??= Promise.all([import('hyparquet'), import('hyparquet-compressors')]);
  return parquetLibraries;
};

/** The file's metadata, or a DecodeError naming the input and where its footer should be. */
export async function readParquetMetadata(input: ParquetInput, name: string): Promise<FileMetaData> {
  if (input.byteLength < 12) {
    throw new DecodeError(`not a Parquet file: ${input.byteLength} bytes is too short (offset 0)`, { name });
  }
  try {
    const [{ parquetMetadataAsync }] = await loadParquetLibraries();
    return await parquetMetadataAsync(asyncBuffer(input));
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    throw new DecodeError(
      `not a readable Parquet file: the footer before offset ${input.byteLength} is invalid (${reason(error)})`,
      { name, cause: error },
    );
  }
}

function asyncBuffer(input: ParquetInput) {
  return {
    byteLength: input.byteLength,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const bytes = await input.read(start, end ?? input.byteLength);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

/** Where a row group's bytes are, for error messages. */
function groupOffset(metadata: FileMetaData, index: number): number {
  const first = metadata.row_groups[index]?.columns[0]?.meta_data;
  if (!first) return 0;
  return Number(first.dictionary_page_offset ?? first.data_page_offset);
}

async function readGroup(
  input: ParquetInput,
  metadata: FileMetaData,
  start: number,
  end: number,
  where: { name: string; index: number },
): Promise<FaucetRecord[]> {
  let rows: Record<string, unknown>[] = [];
  const [{ parquetRead }, { compressors }] = await loadParquetLibraries();
  try {
    await parquetRead({
      file: asyncBuffer(input),
      metadata,
      rowStart: start,
      rowEnd: end,
      rowFormat: 'object',
      compressors,
      onComplete: (result) => {
        rows = result;
      },
    });
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    throw new DecodeError(
      `cannot read row group ${where.index} (rows ${start}-${end - 1}, at offset ` +
        `${groupOffset(metadata, where.index)}): ${reason(error)}`,
      { name: where.name, cause: error },
    );
  }
  const records: FaucetRecord[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Record<string, unknown>;
    const record: FaucetRecord = {};
    for (const key of Object.keys(row)) record[key] = jsonFromParquet(row[key]) as JsonValue;
    records[i] = record;
  }
  return records;
}

/** Decode a Parquet file into batches of records, one row group in memory at a time. */
export async function* decodeParquet(
  input: ParquetInput,
  options: ParquetDecodeOptions = {},
): AsyncGenerator<ParquetBatch, void, undefined> {
  const name = options.name ?? 'input';
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const next = options.nextBatchSize ?? (() => batchSize);
  const metadata = await readParquetMetadata(input, name);
  const startRow = options.startRow ?? 0;
  let groupStart = 0;
  let row = startRow;
  let batch: FaucetRecord[] = [];
  let want = Math.max(1, Math.floor(next()));
  for (let index = 0; index < metadata.row_groups.length; index++) {
    const groupRows = Number((metadata.row_groups[index] as { num_rows: bigint }).num_rows);
    const groupEnd = groupStart + groupRows;
    if (groupEnd > row && groupRows > 0) {
      const records = await readGroup(input, metadata, Math.max(row, groupStart), groupEnd, { name, index });
      for (const record of records) {
        batch.push(record);
        row++;
        if (batch.length >= want) {
          yield { records: batch, row };
          batch = [];
          want = Math.max(1, Math.floor(next()));
        }
      }
    }
    groupStart = groupEnd;
  }
  if (batch.length > 0) yield { records: batch, row };
}
