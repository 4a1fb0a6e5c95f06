import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createCsvEncoder, createParquetEncoder, encodeJsonlText } from '@faucet/formats';
import fileSource, { type FileSource } from '@faucet/source-file';
import { instantiate, testSource } from '@faucet/testkit';
import { afterAll } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'faucet-source-file-conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The instance the streaming probe asks: how many records it has decoded from its files so far. */
let current: FileSource | undefined;
const create = async (config: Record<string, unknown>) => {
  current = (await instantiate(fileSource, config)) as FileSource;
  return current;
};

// JSON Lines keeps every JSON type; the records are split over two files read in sorted order.
testSource({
  name: 'file (jsonl, two files)',
  descriptor: fileSource,
  config: {
    valid: { path: 'data/*.jsonl', replication_method: { type: 'FullTable' } },
    invalid: { value: { path: 'data/*.jsonl', batch_size: 0 }, path: 'batch_size' },
  },
  seed: (records) => {
    mkdirSync(join(dir, 'jsonl'), { recursive: true });
    writeFileSync(join(dir, 'jsonl', 'part-1.jsonl'), encodeJsonlText(records.slice(0, 50)));
    writeFileSync(join(dir, 'jsonl', 'part-2.jsonl'), encodeJsonlText(records.slice(50)));
  },
  create: () => create({ path: join(dir, 'jsonl', '*.jsonl') }),
  capabilities: {
    bookmarks: 'every-page',
    streaming: { served: () => current?.progress.records ?? 0 },
  },
});

// CSV (typed) compressed with gzip: resuming decompresses again and skips to the offset.
testSource({
  name: 'file (csv.gz, typed)',
  dataset: { record: (i) => ({ id: i + 1, name: `row, "${i + 1}"`, score: (i * 7) % 13, ok: i % 2 === 0 }) },
  seed: (records) => {
    mkdirSync(join(dir, 'csv'), { recursive: true });
    writeFileSync(join(dir, 'csv', 'rows.csv.gz'), gzipSync(createCsvEncoder().encode(records)));
  },
  create: () => create({ path: join(dir, 'csv', 'rows.csv.gz'), typed: true }),
  capabilities: {
    bookmarks: 'every-page',
    streaming: { served: () => current?.progress.records ?? 0 },
  },
});

// Parquet in row groups of 16: read a row group at a time; resuming skips whole row groups.
testSource({
  name: 'file (parquet, row groups of 16)',
  seed: (records) => {
    mkdirSync(join(dir, 'parquet'), { recursive: true });
    const encoder = createParquetEncoder({ rowGroupSize: 16 });
    encoder.encode(records);
    writeFileSync(join(dir, 'parquet', 'rows.parquet'), Buffer.concat([encoder.take(), encoder.finish()]));
  },
  create: () => create({ path: join(dir, 'parquet', 'rows.parquet') }),
  capabilities: {
    bookmarks: 'every-page',
    streaming: { served: () => current?.progress.records ?? 0 },
  },
});
