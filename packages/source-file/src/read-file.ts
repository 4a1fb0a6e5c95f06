/**
 * Reading one matched file as batches of records with its progress after each: text formats through
 * @faucet/formats' streaming decoders from a byte offset (gzip decompressed again and skipped to it;
 * a CSV resumed mid-file reads its header row first), Parquet by ranges from a row, one row group in
 * memory at a time (whole row groups before the row are skipped by the footer).
 */
import { createReadStream } from 'node:fs';
import { ConfigError } from '@faucet/core';
import {
  type CsvDecodeOptions,
  type DecodedBatch,
  decodeParquet,
  decodeRecords,
  decompressed,
  type FileFormat,
  fileFormatFromPath,
  parquetFileInput,
  type RecordFormat,
  readCsvHeader,
  resolveCompression,
  skipBytes,
} from '@faucet/formats';
import type { FileSourceConfig } from './config.js';
import type { MatchedFile } from './files.js';

export /** Where to start reading a file: a byte offset and line (text), or a row (Parquet). */
interface StartAt {
  from: number;
  line: number;
  row: number;
}

/** A decoded batch and the file's progress after it (`row` for Parquet). */
export type FileBatch = DecodedBatch & { row?: number };

export function formatOf(config: FileSourceConfig, path: string): FileFormat {
  const format = config.format ?? fileFormatFromPath(path);
  if (format === undefined) {
    throw new ConfigError([
      {
        path: 'format',
        message:
          `cannot tell the format of ${JSON.stringify(path)} from its extension ` +
          '(.csv, .jsonl, .ndjson, .json, each optionally .gz, or .parquet); set format: csv | jsonl | json | parquet',
      },
    ]);
  }
  return format;
}

export type ReadFile = (
  file: MatchedFile,
  format: FileFormat,
  start: StartAt,
  size: number,
  nextBatchSize: () => number,
  skipInvalid?: boolean,
) => AsyncGenerator<FileBatch, void, undefined>;

/** A reader of matched files; `progress` counts the files it opens. */
export function createFileReader(
  config: FileSourceConfig,
  highWaterMark: number,
  progress: { files: number },
): ReadFile {
  const csvOptions: CsvDecodeOptions = {
    delimiter: config.delimiter,
    quote: config.quote,
    hasHeader: config.has_headers,
    typed: config.typed,
    flexible: config.flexible,
    encoding: config.encoding,
    maxRecordBytes: config.max_record_bytes,
  };

  /** The decompressed bytes of `file` from `from` (decoded offset) up to `size` bytes of the file. */
  const openBytes = (file: MatchedFile, from: number, size: number): AsyncIterable<Buffer> => {
    const gzip = resolveCompression(file.path, config.compression) === 'gzip';
    if (size === 0) return (async function* () {})();
    const raw = createReadStream(file.absolute, {
      start: gzip ? 0 : from,
      end: size - 1,
      highWaterMark,
    });
    progress.files++;
    if (!gzip) return raw;
    const plain = decompressed(raw, 'gzip');
    return from > 0 ? skipBytes(plain, from) : plain;
  };

  /** CSV resumed mid-file: the columns come from the file's first row. */
  const csvColumns = async (file: MatchedFile, size: number): Promise<string[] | undefined> => {
    const header = await readCsvHeader(openBytes(file, 0, size), { ...csvOptions, name: file.path });
    if (header === undefined) return undefined;
    return config.has_headers ? header.columns : header.columns.map((_, i) => `column_${i + 1}`);
  };

  /** A Parquet file from row `startRow`, one row group in memory at a time. */
  async function* readParquetFile(
    file: MatchedFile,
    startRow: number,
    nextBatchSize: () => number,
  ): AsyncGenerator<FileBatch, void, undefined> {
    progress.files++;
    const input = await parquetFileInput(file.absolute);
    for await (const batch of decodeParquet(input, { name: file.path, nextBatchSize, startRow })) {
      yield { records: batch.records, offset: 0, line: 0, row: batch.row };
    }
  }

  async function* readFile(
    file: MatchedFile,
    format: FileFormat,
    start: StartAt,
    size: number,
    nextBatchSize: () => number,
    skipInvalid = false,
  ): AsyncGenerator<FileBatch, void, undefined> {
    if (format === 'parquet') {
      yield* readParquetFile(file, start.row, nextBatchSize);
      return;
    }
    const { from, line } = start;
    const columns = format === 'csv' && from > 0 ? await csvColumns(file, size) : undefined;
    yield* decodeRecords(format as RecordFormat, openBytes(file, from, size), {
      ...csvOptions,
      skipInvalid,
      nextBatchSize,
      name: file.path,
      startOffset: from,
      startLine: line,
      ...(columns ? { columns } : {}),
    });
  }
  return readFile;
}
