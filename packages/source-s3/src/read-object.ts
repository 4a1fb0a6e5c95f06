/**
 * One object as batches of records with their progress inside the object: text formats through
 * @faucet/formats' streaming decoders (gunzip on the way), Parquet row group by row group. Errors name
 * the object (`s3://bucket/key`), and for corrupt gzip the offsets where decoding stopped.
 */
import { Readable } from 'node:stream';
import { ConnectionError, type FaucetRecord, isFaucetError, type RejectedRecord } from '@faucet/core';
import {
  type CsvDecodeOptions,
  DecodeError,
  decodeParquet,
  decodeRecords,
  decompressed,
  type FileFormat,
  type InvalidRecord,
  type RecordFormat,
  readCsvHeader,
  skipBytes,
} from '@faucet/formats';
import type { ObjectInfo, ObjectProgress } from './bookmark.js';
import { type ObjectReaderOptions, objectInput, openObject, s3Url } from './objects.js';

export type ObjectFormat = FileFormat;

export interface ObjectBatch {
  records: FaucetRecord[];
  /** With `csv.skipInvalid`: the records before `progress` that could not be decoded. */
  rejected?: RejectedRecord[];
  progress: ObjectProgress;
}

export interface ReadObjectOptions {
  reader: ObjectReaderOptions;
  format: ObjectFormat;
  gzip: boolean;
  csv: CsvDecodeOptions;
  pageSize: number;
  /** Raw (compressed) bytes received so far, added to as chunks arrive: a diagnostic. */
  onBytes?: (count: number) => void;
}

function causeCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'SOURCE_FAILED') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The columns of a CSV object resumed mid-object: its first row. */
async function csvColumns(options: ReadObjectOptions, object: ObjectInfo): Promise<string[] | undefined> {
  const raw = await openObject(options.reader, object, 0);
  try {
    const bytes = options.gzip ? decompressed(raw, 'gzip') : raw;
    const header = await readCsvHeader(bytes, {
      ...options.csv,
      name: s3Url(options.reader.bucket, object.key),
    });
    if (header === undefined) return undefined;
    return options.csv.hasHeader === false ? header.columns.map((_, i) => `column_${i + 1}`) : header.columns;
  } finally {
    raw.destroy();
  }
}

/** A record the decoder set aside, as the engine dead-letters it: its raw text and where it was. */
function rejectedRecord(object: string, invalid: InvalidRecord): RejectedRecord {
  return {
    error: invalid.error,
    raw: invalid.raw,
    position: { object, line: invalid.line, offset: invalid.offset },
  };
}

async function* readText(
  options: ReadObjectOptions,
  object: ObjectInfo,
  from: ObjectProgress,
): AsyncGenerator<ObjectBatch, void, undefined> {
  const name = s3Url(options.reader.bucket, object.key);
  const columns = options.format === 'csv' && from.offset > 0 ? await csvColumns(options, object) : undefined;
  const raw: Readable = await openObject(options.reader, object, options.gzip ? 0 : from.offset);
  let rawBytes = options.gzip ? 0 : from.offset;
  // Counted as they are pulled (a 'data' listener would make the body flow without backpressure).
  async function* counted(): AsyncGenerator<Buffer, void, undefined> {
    for await (const chunk of raw as AsyncIterable<Buffer>) {
      rawBytes += chunk.length;
      options.onBytes?.(chunk.length);
      yield chunk;
    }
  }
  let last = from;
  try {
    const plain = options.gzip ? decompressed(Readable.from(counted()), 'gzip') : counted();
    const bytes =
      options.gzip && from.offset > 0 ? skipBytes(plain as AsyncIterable<Buffer>, from.offset) : plain;
    const batches = decodeRecords(options.format as RecordFormat, bytes, {
      ...options.csv,
      batchSize: options.pageSize,
      name,
      startOffset: from.offset,
      startLine: from.line,
      ...(columns ? { columns } : {}),
    });
    for await (const batch of batches) {
      last = { ...from, offset: batch.offset, line: batch.line };
      const out: ObjectBatch = { records: batch.records, progress: last };
      if (batch.rejected) out.rejected = batch.rejected.map((r) => rejectedRecord(name, r));
      yield out;
    }
  } catch (error) {
    const code = causeCode(error);
    if (code?.startsWith('Z_')) {
      throw new DecodeError(
        `corrupt gzip data (${code}) after decompressed byte ${last.offset} (line ${last.line}); ` +
          `${rawBytes} compressed bytes of ${object.size} were read`,
        { name, cause: error },
      );
    }
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT') {
      throw new ConnectionError(`${name}: the connection broke after ${rawBytes} bytes (${code})`, {
        cause: error,
        connector: 's3',
      });
    }
    if (isFaucetError(error)) throw error;
    throw new DecodeError(`cannot read: ${error instanceof Error ? error.message : String(error)}`, {
      name,
      cause: error,
    });
  } finally {
    raw.destroy();
  }
}

async function* readParquet(
  options: ReadObjectOptions,
  object: ObjectInfo,
  from: ObjectProgress,
): AsyncGenerator<ObjectBatch, void, undefined> {
  const name = s3Url(options.reader.bucket, object.key);
  const input = objectInput(options.reader, object);
  const counted = {
    byteLength: input.byteLength,
    async read(start: number, end: number) {
      const bytes = await input.read(start, end);
      options.onBytes?.(bytes.length);
      return bytes;
    },
  };
  for await (const batch of decodeParquet(counted, {
    name,
    batchSize: options.pageSize,
    startRow: from.row,
  })) {
    yield { records: batch.records, progress: { ...from, row: batch.row } };
  }
}

/** The records of `object` after `from`, in batches of at most `pageSize`. */
export function readObject(
  options: ReadObjectOptions,
  object: ObjectInfo,
  from: ObjectProgress,
): AsyncGenerator<ObjectBatch, void, undefined> {
  return options.format === 'parquet' ? readParquet(options, object, from) : readText(options, object, from);
}
