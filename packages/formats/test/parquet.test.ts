import type { FaucetRecord } from '@faucet/core';
import { describe, expect, it } from 'vitest';
import {
  createParquetEncoder,
  DecodeError,
  decodeParquet,
  inferParquetColumns,
  type ParquetInput,
  readParquetMetadata,
} from '../src/index.js';

function memoryInput(bytes: Buffer, reads: Array<[number, number]> = []): ParquetInput {
  return {
    byteLength: bytes.length,
    async read(start, end) {
      reads.push([start, end]);
      return bytes.subarray(start, end);
    },
  };
}

function encodeAll(records: FaucetRecord[], rowGroupSize = 3): Buffer {
  const encoder = createParquetEncoder({ rowGroupSize, name: 't.parquet' });
  const parts: Buffer[] = [];
  for (let i = 0; i < records.length; i += 2) {
    expect(encoder.encode(records.slice(i, i + 2))).toEqual([]);
    parts.push(encoder.take());
  }
  parts.push(encoder.finish());
  return Buffer.concat(parts);
}

async function decodeAll(input: ParquetInput, options = {}) {
  const out: { records: FaucetRecord[]; row: number }[] = [];
  for await (const batch of decodeParquet(input, { name: 't.parquet', ...options })) out.push(batch);
  return out;
}

const rows: FaucetRecord[] = Array.from({ length: 10 }, (_, i) => ({
  id: i + 1,
  name: `n${i}`,
  amount: i + 0.5,
  active: i % 2 === 0,
  attrs: { tier: 'pro', tags: ['a', 'b'] },
  note: i === 3 ? null : 'x',
}));

describe('parquet', () => {
  it('infers columns from the first batch', () => {
    expect(
      inferParquetColumns([{ a: 1, b: 1.5, c: 'x', d: true, e: [1], f: null, g: 1 }, { g: 2.5 }]),
    ).toEqual([
      { name: 'a', type: 'INT64' },
      { name: 'b', type: 'DOUBLE' },
      { name: 'c', type: 'STRING' },
      { name: 'd', type: 'BOOLEAN' },
      { name: 'e', type: 'JSON' },
      { name: 'f', type: 'STRING' },
      { name: 'g', type: 'DOUBLE' },
    ]);
  });

  it('round-trips records through row groups, streaming bytes out as groups complete', async () => {
    const encoder = createParquetEncoder({ rowGroupSize: 4 });
    encoder.encode(rows.slice(0, 3));
    expect(encoder.take().length).toBeGreaterThan(0); // the PAR1 magic only
    expect(encoder.pendingRows).toBe(3);
    encoder.encode(rows.slice(3, 5));
    expect(encoder.pendingRows).toBe(1);
    const group = encoder.take();
    expect(group.length).toBeGreaterThan(50);
    encoder.encode(rows.slice(5));
    const bytes = Buffer.concat([Buffer.from('PAR1'), group, encoder.take(), encoder.finish()]);
    const metadata = await readParquetMetadata(memoryInput(bytes), 't.parquet');
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([4, 4, 2]);
    const batches = await decodeAll(memoryInput(bytes), { batchSize: 3 });
    expect(batches.map((b) => b.row)).toEqual([3, 6, 9, 10]);
    expect(batches.flatMap((b) => b.records)).toEqual(rows);
  });

  it('ends a row group at rowGroupBytes as well as at rowGroupSize', async () => {
    const wide = (i: number): FaucetRecord => ({ id: i, text: 'x'.repeat(1000), flag: true });
    const encoder = createParquetEncoder({ rowGroupSize: 1000, rowGroupBytes: 4096 });
    const parts: Buffer[] = [];
    for (let i = 0; i < 10; i++) {
      encoder.encode([wide(i)]);
      // 1,009 estimated bytes a row: the fifth row reaches 4,096 and ends the group.
      expect(encoder.pendingBytes).toBeLessThan(4096);
      parts.push(encoder.take());
    }
    parts.push(encoder.finish());
    const bytes = Buffer.concat(parts);
    const metadata = await readParquetMetadata(memoryInput(bytes), 't.parquet');
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([5, 5]);
    const records = (await decodeAll(memoryInput(bytes), { batchSize: 100 })).flatMap((b) => b.records);
    expect(records).toEqual(Array.from({ length: 10 }, (_, i) => wide(i)));
    // JSON values count by their JSON text.
    const json = createParquetEncoder({ rowGroupSize: 1000, rowGroupBytes: 1 << 20 });
    json.encode([{ attrs: { a: 'xyz' } }]);
    expect(json.pendingBytes).toBe(JSON.stringify({ a: 'xyz' }).length);
  });

  it('resumes at a row, reading no row group before it', async () => {
    const bytes = encodeAll(rows, 3);
    const reads: Array<[number, number]> = [];
    const metadata = await readParquetMetadata(memoryInput(bytes), 't');
    const secondGroupStart = Number(metadata.row_groups[2]?.columns[0]?.meta_data?.data_page_offset);
    const batches = await decodeAll(memoryInput(bytes, reads), { startRow: 7, batchSize: 100 });
    expect(batches.flatMap((b) => b.records)).toEqual(rows.slice(7));
    expect(batches.at(-1)?.row).toBe(10);
    // Only the footer and groups 2-3 are read.
    expect(reads.every(([, end]) => end > secondGroupStart)).toBe(true);
  });

  it('fails rows that do not fit their column', () => {
    const encoder = createParquetEncoder({ name: 'out/p.parquet' });
    expect(encoder.encode([{ id: 1, big: '9223372036854775807', flag: true }])).toEqual([]);
    const failed = encoder.encode([
      { id: 0, big: '0', flag: true },
      { id: 1.5, big: '1', flag: true },
      { id: 2, big: '2', flag: 'yes' },
      { id: 3, big: '3', flag: false, extra: 1 },
    ]);
    expect(failed.map((f) => f.index)).toEqual([1, 2, 3]);
    expect(String((failed[0]?.error as Error).message)).toContain(
      'column "id" of out/p.parquet is INT64; got the number 1.5',
    );
    expect(String((failed[2]?.error as Error).message)).toContain(
      'field "extra" is not a column of out/p.parquet',
    );
    expect(encoder.rows).toBe(2);
  });

  it('reads INT64 beyond 2^53 back as a string', async () => {
    const encoder = createParquetEncoder({ columns: [{ name: 'big', type: 'INT64' }] });
    encoder.encode([{ big: '9223372036854775807' }, { big: 5 }]);
    const bytes = Buffer.concat([encoder.take(), encoder.finish()]);
    const records = (await decodeAll(memoryInput(bytes))).flatMap((b) => b.records);
    expect(records).toEqual([{ big: '9223372036854775807' }, { big: 5 }]);
  });

  it('an empty file has a schema and no rows', async () => {
    const encoder = createParquetEncoder();
    const bytes = Buffer.concat([encoder.take(), encoder.finish()]);
    expect(await decodeAll(memoryInput(bytes))).toEqual([]);
  });

  it('names the input and the offset of a corrupt footer or row group', async () => {
    const bytes = encodeAll(rows, 5);
    const notParquet = Buffer.from('id,name\n1,a\n2,b\n3,c\n');
    const error1 = await decodeAll(memoryInput(notParquet)).catch((e: unknown) => e);
    expect(error1).toBeInstanceOf(DecodeError);
    expect((error1 as Error).message).toMatch(
      /^t\.parquet: not a readable Parquet file: the footer before offset 20/,
    );

    const metadata = await readParquetMetadata(memoryInput(bytes), 't');
    const at = Number(metadata.row_groups[1]?.columns[0]?.meta_data?.data_page_offset);
    const broken = Buffer.from(bytes);
    broken.fill(0xff, at, at + 40);
    const error2 = await decodeAll(memoryInput(broken)).catch((e: unknown) => e);
    expect(error2).toBeInstanceOf(DecodeError);
    expect((error2 as Error).message).toMatch(
      new RegExp(`^t\\.parquet: cannot read row group 1 \\(rows 5-9, at offset ${at}\\)`),
    );
  });
});
