/** Records to the bytes of one part file: JSON Lines or CSV (gzip members when compressed), or Parquet. */
import type { FaucetRecord, RowFailure } from '@faucet/core';
import { createCsvEncoder, createParquetEncoder, encodeJsonlText, gzipMember } from '@faucet/formats';
import type { S3SinkConfig } from './config.js';

export interface PartEncoder {
  encode(records: readonly FaucetRecord[]): Promise<{ bytes: Buffer; failed: RowFailure[] }>;
  /** The file's last bytes (Parquet: the footer). */
  finish(): Promise<Buffer>;
}

export function extensionOf(config: Pick<S3SinkConfig, 'format' | 'compression'>): string {
  if (config.format === 'parquet') return '.parquet';
  return `.${config.format}${config.compression === 'gzip' ? '.gz' : ''}`;
}

export function contentTypeOf(config: Pick<S3SinkConfig, 'format' | 'compression'>): string {
  if (config.compression === 'gzip' && config.format !== 'parquet') return 'application/gzip';
  return { jsonl: 'application/x-ndjson', csv: 'text/csv', parquet: 'application/vnd.apache.parquet' }[
    config.format
  ];
}

/** A fresh encoder for one part named `name` (`s3://bucket/key`, for errors). */
export function createPartEncoder(config: S3SinkConfig, name: string): PartEncoder {
  if (config.format === 'parquet') {
    const encoder = createParquetEncoder({
      name,
      rowGroupSize: config.parquet_row_group_rows,
      rowGroupBytes: config.parquet_row_group_bytes,
      onUnknownField: config.on_unknown_field,
    });
    return {
      async encode(records) {
        const failed = encoder.encode(records);
        return { bytes: encoder.take(), failed };
      },
      async finish() {
        return encoder.finish();
      },
    };
  }
  const gzip = config.compression === 'gzip';
  const csv =
    config.format === 'csv' ? createCsvEncoder({ name, onUnknownField: config.on_unknown_field }) : undefined;
  return {
    async encode(records) {
      const text = csv ? csv.encode([...records]) : encodeJsonlText(records);
      return { bytes: gzip ? await gzipMember(text) : Buffer.from(text, 'utf8'), failed: [] };
    },
    async finish() {
      return Buffer.alloc(0);
    },
  };
}
