/**
 * `@faucet/formats`: streaming record codecs shared by the file and object-store connectors.
 *
 *   for await (const { records, offset } of decodeRecords('csv', stream, { name: path })) …
 *   const encoder = createCsvEncoder(); sink.write(encoder.encode(records));
 */
export { MAX_RECORD_BYTES_LIMIT, parquetWriteConfigShape, textReadConfigShape } from './config-shapes.js';
export {
  type CsvDecodeOptions,
  type CsvHeader,
  checkHeader,
  decodeCsv,
  readCsvHeader,
  typedValue,
} from './csv-decode.js';
export {
  type CsvEncoder,
  type CsvEncoderOptions,
  columnsOf,
  createCsvEncoder,
  type UnknownFieldPolicy,
} from './csv-encode.js';
export {
  type CsvRecordEndOptions,
  completeCsvRecordsLength,
} from './csv-record-end.js';
export {
  DEFAULT_BATCH_SIZE,
  DEFAULT_MAX_RECORD_BYTES,
  DEFAULT_MAX_RECORD_CHARS,
  type DecodedBatch,
  type DecodeOptions,
  type InvalidRecord,
} from './decode-common.js';
export { DecodeError, EncodeError } from './errors.js';
export {
  type Compression,
  type DecodeRecordsOptions,
  decodeRecords,
  decompressed,
  type FileFormat,
  fileFormatFromPath,
  formatFromPath,
  gzipMember,
  isGzipPath,
  type RecordFormat,
  resolveCompression,
  skipBytes,
} from './files.js';
export { decodeJsonArray } from './json-array.js';
export { decodeJsonl, encodeJsonl, encodeJsonlText } from './jsonl.js';
export { createJsonlEncoder, type JsonlEncoder } from './jsonl-encode.js';
export {
  decodeParquet,
  type ParquetBatch,
  type ParquetDecodeOptions,
  type ParquetInput,
  parquetFileInput,
  readParquetMetadata,
} from './parquet-decode.js';
export {
  createParquetEncoder,
  DEFAULT_PARQUET_ROW_GROUP,
  DEFAULT_PARQUET_ROW_GROUP_BYTES,
  type ParquetEncoder,
  type ParquetEncoderOptions,
} from './parquet-encode.js';
export {
  inferParquetColumns,
  jsonFromParquet,
  type ParquetColumn,
  type ParquetColumnType,
} from './parquet-values.js';
export { inferSchema } from './schema.js';
export type { ByteInput, TextEncoding } from './text-chunks.js';
