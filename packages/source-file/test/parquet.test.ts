/**
 * Parquet through the file source: read a row group at a time, pages of batch_size, resume by row
 * (whole row groups before it are skipped by the footer), a rewritten file read again, a corrupt
 * file named with its offset, and the config rule that Parquet is not gzipped from outside.
 */
import { writeFile } from 'node:fs/promises';
import type { FaucetRecord } from '@faucet/core';
import { createParquetEncoder, DecodeError } from '@faucet/formats';
import { describe, expect, it } from 'vitest';
import { type FileBookmark, fileSourceConfigSchema } from '../src/index.js';
import {
  fileSource,
  ids,
  lastBookmark,
  range,
  readPages,
  recordingLogger,
  recordsOf,
  useTempDir,
} from './helpers.js';

useTempDir();

const rows = (from: number, to: number): FaucetRecord[] =>
  range(from, to).map((id) => ({ id, name: `n${id}`, score: id / 4, ok: id % 2 === 0, tags: [id] }));

function parquetBytes(records: FaucetRecord[], rowGroupSize: number): Buffer {
  const encoder = createParquetEncoder({ rowGroupSize });
  encoder.encode(records);
  return Buffer.concat([encoder.take(), encoder.finish()]);
}

describe('file source: Parquet', () => {
  it('reads .parquet files by extension, in pages across row groups and files', async () => {
    await writeFile('a.parquet', parquetBytes(rows(1, 25), 10));
    await writeFile('b.parquet', parquetBytes(rows(26, 30), 10));
    const pages = await readPages(fileSource({ path: '*.parquet' }), { batchSize: 7 });
    expect(recordsOf(pages)).toEqual(rows(1, 30));
    expect(pages.map((p) => p.records.length)).toEqual([7, 7, 7, 7, 2]);
    const bookmark = lastBookmark(pages) as unknown as FileBookmark;
    expect(bookmark.files['a.parquet']).toMatchObject({ row: 25, offset: 0, done: true });
    expect(bookmark.files['b.parquet']).toMatchObject({ row: 5, done: true });
    // Read to the end and unchanged: the next run reads nothing.
    const again = await readPages(fileSource({ path: '*.parquet' }), { bookmark: lastBookmark(pages) });
    expect(recordsOf(again)).toEqual([]);
    // format: parquet reads another extension.
    await writeFile('c.data', parquetBytes(rows(31, 32), 10));
    const told = await readPages(fileSource({ path: 'c.data', format: 'parquet' }));
    expect(ids(recordsOf(told))).toEqual([31, 32]);
  });

  it('resumes at the row of a page bookmark with exactly the rest', async () => {
    await writeFile('r.parquet', parquetBytes(rows(1, 250), 64));
    const all = await readPages(fileSource({ path: 'r.parquet' }), { batchSize: 40 });
    expect(ids(recordsOf(all))).toEqual(range(1, 250));
    for (const cut of [1, 2, 5]) {
      const bookmark = all[cut - 1]?.bookmark as unknown as FileBookmark;
      expect(bookmark.files['r.parquet']).toMatchObject({ row: cut * 40, done: false });
      const rest = await readPages(fileSource({ path: 'r.parquet' }), {
        bookmark: bookmark as never,
        batchSize: 40,
      });
      expect(ids(recordsOf(rest))).toEqual(range(cut * 40 + 1, 250));
    }
  });

  it('reads a rewritten file again from its first row, with a warning', async () => {
    await writeFile('w.parquet', parquetBytes(rows(1, 20), 8));
    const first = await readPages(fileSource({ path: 'w.parquet' }));
    await writeFile('w.parquet', parquetBytes(rows(1, 24), 8));
    const logger = recordingLogger();
    const second = await readPages(fileSource({ path: 'w.parquet' }), {
      bookmark: lastBookmark(first),
      logger,
    });
    expect(ids(recordsOf(second))).toEqual(range(1, 24));
    expect(logger.lines.some((l) => l.level === 'warn' && l.message.includes('reading it again'))).toBe(true);
  });

  it('names a corrupt file and the offset of its footer', async () => {
    await writeFile('bad.parquet', 'this is not parquet at all');
    const error = await readPages(fileSource({ path: 'bad.parquet' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as Error).message).toMatch(
      /^bad\.parquet: not a readable Parquet file: the footer before offset 26 is invalid/,
    );
  });

  it('refuses compression: gzip with format: parquet', () => {
    const result = fileSourceConfigSchema.safeParse({ path: 'x', format: 'parquet', compression: 'gzip' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({
      path: ['compression'],
      message: 'Parquet compresses inside the file: leave compression at auto (or none) for format parquet',
    });
  });
});
