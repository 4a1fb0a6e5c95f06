/**
 * A streaming Parquet encoder (hyparquet-writer underneath). Records are turned into column values
 * as they arrive; a row group is encoded when it reaches `rowGroupSize` rows or about
 * `rowGroupBytes` of values, whichever comes first, and its bytes become available through `take()`,
 * so a sink can upload or write them while later rows are still coming. Memory holds at most one
 * row group of column values plus its encoded bytes until taken: the byte bound keeps that flat when
 * rows are wide, where a row count alone would let one row group grow with the row size. `finish()`
 * encodes the last rows and the footer (schema + row-group index); the file is complete only then.
 */
import { createRequire } from 'node:module';
import type { FaucetRecord, RowFailure } from '@faucet/core';
import type { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { EncodeError } from './errors.js';
import {
  describeValue,
  inferParquetColumns,
  type ParquetColumn,
  parquetCell,
  WRONG_TYPE,
} from './parquet-values.js';

export interface ParquetEncoderOptions {
  /** The output's name in errors (a path or an object key). */
  name?: string;
  /** Rows per row group, at most (default 50,000). */
  rowGroupSize?: number;
  /**
   * Bytes of values per row group, at most, estimated as they arrive: a string by its length, a
   * number 8, a boolean 1, a JSON value by its JSON text (default 16 MiB). The row that reaches it
   * ends the row group.
   */
  rowGroupBytes?: number;
  /** The file's columns; default: inferred from the first batch. */
  columns?: ParquetColumn[];
  /** A record key that is not a column: fail the row (`error`, default) or drop the key (`ignore`). */
  onUnknownField?: 'error' | 'ignore';
  /** Page compression (default SNAPPY). */
  compression?: 'SNAPPY' | 'UNCOMPRESSED';
}

export interface ParquetEncoder {
  /** Add records; rows that do not fit the columns are returned as failures, the others kept. */
  encode(records: readonly FaucetRecord[]): RowFailure[];
  /** The bytes encoded since the last call (complete row groups; empty when none). */
  take(): Buffer;
  /** Encode the remaining rows and the footer; returns the last bytes of the file. */
  finish(): Buffer;
  /** The file's columns (undefined until the first record). */
  readonly columns: readonly ParquetColumn[] | undefined;
  /** Rows accepted so far. */
  readonly rows: number;
  /** Rows accepted but not yet encoded into a row group. */
  readonly pendingRows: number;
  /** Their estimated bytes (see `rowGroupBytes`). */
  readonly pendingBytes: number;
}

export const DEFAULT_PARQUET_ROW_GROUP = 50_000;
export const DEFAULT_PARQUET_ROW_GROUP_BYTES = 16 * 1024 * 1024;

/** About how many bytes `cell` takes in a column (see `rowGroupBytes`). */
function cellBytes(cell: unknown): number {
  switch (typeof cell) {
    case 'string':
      return cell.length;
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
      return 1;
    case 'object':
      return cell === null ? 0 : JSON.stringify(cell).length;
    default:
      return 8;
  }
}

const SCHEMA_TYPES = {
  BOOLEAN: { type: 'BOOLEAN' },
  INT64: { type: 'INT64' },
  DOUBLE: { type: 'DOUBLE' },
  STRING: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  JSON: { type: 'BYTE_ARRAY', converted_type: 'JSON' },
} as const;

type WriterLibrary = typeof import('hyparquet-writer');

/** A hyparquet Writer that hands out what it has written instead of growing one buffer. */
interface ChunkWriter extends ByteWriter {
  takeAll(): Buffer;
}

let writerLibrary: { library: WriterLibrary; ChunkWriter: new (size: number) => ChunkWriter } | undefined;

/**
 * hyparquet-writer (with hyparquet about 50 modules and 8 MiB), loaded when the first Parquet encoder
 * is created, so a program that loads @faucet/formats for CSV or JSON Lines never pays for it. Node
 * 20.19+ loads an ES module with require() synchronously, which keeps createParquetEncoder synchronous.
 */
function parquetWriterLibrary() {
  if (writerLibrary) return writerLibrary;
  const library = createRequire(import.meta.url)('hyparquet-writer') as WriterLibrary;
  class ChunkWriterImpl extends library.ByteWriter implements ChunkWriter {
    chunks: Buffer[] = [];

    flush(): void {
      if (this.index === 0) return;
      this.chunks.push(Buffer.from(this.getBytes()));
      this.index = 0;
    }

    override finish(): void {
      this.flush();
    }

    takeAll(): Buffer {
      this.flush();
      const out = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
      this.chunks = [];
      return out;
    }
  }
  writerLibrary = { library, ChunkWriter: ChunkWriterImpl };
  return writerLibrary;
}

export function createParquetEncoder(options: ParquetEncoderOptions = {}): ParquetEncoder {
  const name = options.name ?? 'output';
  const groupSize = options.rowGroupSize ?? DEFAULT_PARQUET_ROW_GROUP;
  const groupBytes = options.rowGroupBytes ?? DEFAULT_PARQUET_ROW_GROUP_BYTES;
  const ignoreUnknown = options.onUnknownField === 'ignore';
  const { library, ChunkWriter } = parquetWriterLibrary();
  const sink = new ChunkWriter(1 << 20);
  let columns: ParquetColumn[] | undefined = options.columns;
  let known: Set<string> | undefined;
  let writer: ParquetWriter | undefined;
  let cells: unknown[][] = [];
  let pending = 0;
  let pendingBytes = 0;
  let rows = 0;
  let finished = false;

  const start = (first: readonly FaucetRecord[]): void => {
    columns ??= inferParquetColumns(first);
    if (columns.length === 0) columns = [{ name: 'value', type: 'JSON' }];
    known = new Set(columns.map((c) => c.name));
    cells = columns.map(() => []);
    const schema = [
      { name: 'root', num_children: columns.length },
      ...columns.map((c) => ({
        name: c.name,
        repetition_type: 'OPTIONAL' as const,
        ...SCHEMA_TYPES[c.type],
      })),
    ];
    writer = new library.ParquetWriter({
      writer: sink,
      schema: schema as never,
      codec: options.compression ?? 'SNAPPY',
      createdBy: 'faucet (@faucet/formats, hyparquet-writer)',
    });
  };

  const encodeGroup = (): void => {
    if (pending === 0 || !writer || !columns) return;
    const cols = columns;
    const columnData = cols.map((c, i) => ({ name: c.name, data: cells[i] as unknown[] }));
    writer.write({ columnData: columnData as never, rowGroupSize: pending });
    cells = cols.map(() => []);
    pending = 0;
    pendingBytes = 0;
  };

  /** The row's cells, or the reason it does not fit. */
  const rowCells = (record: FaucetRecord): unknown[] | string => {
    const cols = columns as ParquetColumn[];
    if (!ignoreUnknown) {
      for (const key of Object.keys(record)) {
        if (!(known as Set<string>).has(key)) {
          return `field ${JSON.stringify(key)} is not a column of ${name} (columns come from the first batch)`;
        }
      }
    }
    const out: unknown[] = new Array(cols.length);
    for (let i = 0; i < cols.length; i++) {
      const column = cols[i] as ParquetColumn;
      const value = record[column.name];
      const cell = parquetCell(column.type, value);
      if (cell === WRONG_TYPE) {
        return `column ${JSON.stringify(column.name)} of ${name} is ${column.type}; got ${describeValue(value as never)}`;
      }
      out[i] = cell;
    }
    return out;
  };

  return {
    encode(records) {
      if (finished) throw new EncodeError('the Parquet file is already finished', { name });
      const failed: RowFailure[] = [];
      if (records.length === 0) return failed;
      if (!writer) start(records);
      for (let index = 0; index < records.length; index++) {
        const row = rowCells(records[index] as FaucetRecord);
        if (typeof row === 'string') {
          failed.push({ index, error: new EncodeError(row, { name }) });
          continue;
        }
        for (let i = 0; i < row.length; i++) {
          const cell = row[i];
          (cells[i] as unknown[]).push(cell);
          pendingBytes += cellBytes(cell);
        }
        pending++;
        rows++;
        if (pending >= groupSize || pendingBytes >= groupBytes) encodeGroup();
      }
      return failed;
    },
    take: () => sink.takeAll(),
    finish() {
      if (finished) return Buffer.alloc(0);
      finished = true;
      if (!writer) start([]);
      encodeGroup();
      (writer as ParquetWriter).finish();
      return sink.takeAll();
    },
    get columns() {
      return columns;
    },
    get rows() {
      return rows;
    },
    get pendingRows() {
      return pending;
    },
    get pendingBytes() {
      return pendingBytes;
    },
  };
}
