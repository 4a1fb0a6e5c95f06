import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  createCsvEncoder,
  DecodeError,
  decodeRecords,
  decompressed,
  encodeJsonlText,
  fileFormatFromPath,
  formatFromPath,
  gzipMember,
  isGzipPath,
  resolveCompression,
} from '../src/index.js';
import { collect, pieces, records } from './helpers.js';

const ROWS = Array.from({ length: 2500 }, (_, i) => ({ id: i + 1, name: `n${i}`, tags: ['a', i % 3] }));

describe('formats and compression by file name', () => {
  it('tells the format from the extension, under .gz too', () => {
    expect(formatFromPath('data/a.csv')).toBe('csv');
    expect(fileFormatFromPath('data/a.parquet')).toBe('parquet');
    expect(fileFormatFromPath('data/a.PARQUET')).toBe('parquet');
    expect(fileFormatFromPath('data/a.parquet.gz')).toBeUndefined();
    expect(fileFormatFromPath('data/a.csv.gz')).toBe('csv');
    expect(formatFromPath('data/a.CSV.gz')).toBe('csv');
    expect(formatFromPath('x.jsonl')).toBe('jsonl');
    expect(formatFromPath('x.ndjson.gz')).toBe('jsonl');
    expect(formatFromPath('x.json')).toBe('json');
    expect(formatFromPath('x.txt')).toBeUndefined();
    expect(formatFromPath('dir.csv/file')).toBeUndefined();
    expect(formatFromPath('.csv')).toBeUndefined();
    expect(isGzipPath('a.jsonl.gz')).toBe(true);
    expect(resolveCompression('a.jsonl.gz')).toBe('gzip');
    expect(resolveCompression('a.jsonl')).toBe('none');
    expect(resolveCompression('a.jsonl', 'gzip')).toBe('gzip');
    expect(resolveCompression('a.gz', 'none')).toBe('none');
  });
});

describe('gzip', () => {
  it('round-trips JSON Lines through several gzip members (as the file sink appends them)', async () => {
    const members = [
      await gzipMember(encodeJsonlText(ROWS.slice(0, 1000))),
      await gzipMember(encodeJsonlText(ROWS.slice(1000))),
    ];
    const file = Buffer.concat(members);
    expect(gunzipSync(file).toString().split('\n')).toHaveLength(ROWS.length + 1);
    const stream = decompressed(Readable.from(pieces(file, 777)), 'gzip');
    expect(await records(decodeRecords('jsonl', stream, { batchSize: 300 }))).toEqual(ROWS);
  });

  it('round-trips CSV', async () => {
    const flat = ROWS.map(({ id, name }) => ({ id: String(id), name }));
    const file = await gzipMember(createCsvEncoder().encode(flat));
    const batches = await collect(decodeRecords('csv', decompressed(Readable.from([file]), 'gzip')));
    expect(batches.flatMap((b) => b.records)).toEqual(flat);
  });

  it('turns a corrupt gzip stream into a DecodeError naming the input', async () => {
    const good = await gzipMember('{"a":1}\n');
    const bad = Buffer.concat([good.subarray(0, 12), Buffer.from('garbage-garbage-garbage')]);
    const stream = decompressed(Readable.from([bad]), 'gzip');
    const error = await collect(decodeRecords('jsonl', stream, { name: 'x.jsonl.gz' })).catch((e) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect(error.message).toMatch(/^x\.jsonl\.gz: cannot read: /);
  });

  it('decodes each format through decodeRecords', async () => {
    expect(await records(decodeRecords('json', ['[{"a":1}]']))).toEqual([{ a: 1 }]);
    expect(await records(decodeRecords('jsonl', ['{"a":1}']))).toEqual([{ a: 1 }]);
    expect(await records(decodeRecords('csv', ['a\n1']))).toEqual([{ a: '1' }]);
  });
});
