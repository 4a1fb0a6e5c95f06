/**
 * Parquet through the file sink: overwrite mode only; row groups go to the staging file as they are
 * encoded (by rows or by bytes), the footer at a good close; a failed run leaves the old file whole;
 * rows that do not fit the columns fail alone; append and gzip are refused with the reason.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  type FaucetRecord,
  type Logger,
  runPipeline,
  type Source,
  validateConfig,
} from '@faucet/core';
import { decodeParquet, parquetFileInput, readParquetMetadata } from '@faucet/formats';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fileSinkDescriptor, {
  createFileSink,
  type FileSinkConfigInput,
  fileSinkConfigSchema,
  stagingPath,
} from '../src/index.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faucet-sink-file-parquet-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const ctx = { signal: new AbortController().signal, logger };
const sink = (config: FileSinkConfigInput) => createFileSink(fileSinkConfigSchema.parse(config), { logger });
const rows = (from: number, to: number): FaucetRecord[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    id: from + i,
    name: `n${from + i}`,
    score: (from + i) / 2,
    attrs: { tier: 'pro' },
  }));

async function readBack(path: string): Promise<{ records: FaucetRecord[]; groups: number[] }> {
  const input = await parquetFileInput(path);
  const metadata = await readParquetMetadata(input, path);
  const records: FaucetRecord[] = [];
  for await (const batch of decodeParquet(input, { name: path, batchSize: 1000 }))
    records.push(...batch.records);
  return { records, groups: metadata.row_groups.map((g) => Number(g.num_rows)) };
}

describe('file sink: Parquet', () => {
  it('writes row groups to the staging file as they fill, and the footer when a good run closes', async () => {
    const path = join(dir, 'out', 'rows.parquet');
    const s = sink({ path, mode: 'overwrite', parquet_row_group_rows: 100 });
    await s.write(rows(1, 60), ctx);
    const before = (await stat(stagingPath(path))).size;
    await s.write(rows(61, 130), ctx); // completes the first row group of 100
    await s.flush?.();
    expect((await stat(stagingPath(path))).size).toBeGreaterThan(before + 500);
    expect(existsSync(path)).toBe(false);
    await s.write(rows(131, 250), ctx);
    await s.close({ status: 'ok' });
    expect(existsSync(stagingPath(path))).toBe(false);
    const back = await readBack(path);
    expect(back.records).toEqual(rows(1, 250));
    expect(back.groups).toEqual([100, 100, 50]);
  });

  it('ends row groups at parquet_row_group_bytes too', async () => {
    const path = join(dir, 'wide.parquet');
    const s = sink({ path, mode: 'overwrite', parquet_row_group_bytes: 64 * 1024 });
    const wide = (i: number): FaucetRecord => ({ id: i, text: 'x'.repeat(1000) });
    for (let i = 0; i < 200; i += 20)
      await s.write(
        Array.from({ length: 20 }, (_, j) => wide(i + j)),
        ctx,
      );
    await s.close();
    const back = await readBack(path);
    expect(back.records.length).toBe(200);
    // 1,008 estimated bytes a row: a row group ends at the 66th row.
    expect(back.groups).toEqual([66, 66, 66, 2]);
  });

  it('fails only the rows that do not fit the columns', async () => {
    const path = join(dir, 'typed.parquet');
    const s = sink({ path, mode: 'overwrite' });
    expect(await s.write([{ id: 1, name: 'a' }], ctx)).toEqual({});
    const result = await s.write(
      [
        { id: 2, name: 'b' },
        { id: 'three', name: 'c' },
        { id: 4, other: 1 },
      ],
      ctx,
    );
    expect(result?.failed?.map((f) => f.index)).toEqual([1, 2]);
    expect(String((result?.failed?.[0]?.error as Error).message)).toBe(
      `${path}: column "id" of ${path} is INT64; got string "three"`,
    );
    expect(String((result?.failed?.[1]?.error as Error).message)).toContain('field "other" is not a column');
    await s.close();
    expect((await readBack(path)).records).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
  });

  it('through runPipeline: a failed run leaves the old file; the next one writes every row once', async () => {
    const path = join(dir, 'run.parquet');
    await writeFile(path, 'the old file');
    const all = rows(1, 50);
    const source = (failAt?: number): Source => ({
      async *read(context) {
        const start = (context.bookmark as { next?: number } | undefined)?.next ?? 0;
        for (let i = start; i < all.length; i += 10) {
          if (i / 10 === failAt) throw new Error('injected source failure');
          yield { records: all.slice(i, i + 10), bookmark: { next: i + 10 } };
        }
      },
    });
    const options = { pipeline: 'parquet', batchSize: 10, retry: false as const };
    const first = sink({ path, mode: 'overwrite', parquet_row_group_rows: 20 });
    const failed = await runPipeline({ ...options, source: source(3), sink: first });
    expect(failed.status).toBe('failed');
    await first.close({ status: failed.status });
    expect(await readFile(path, 'utf8')).toBe('the old file');
    const second = sink({ path, mode: 'overwrite', parquet_row_group_rows: 20 });
    const ok = await runPipeline({ ...options, source: source(), sink: second });
    await second.close({ status: ok.status });
    expect((await readBack(path)).records).toEqual(all);
  });

  it('an empty run leaves a valid Parquet file with no rows', async () => {
    const path = join(dir, 'empty.parquet');
    await sink({ path, mode: 'overwrite' }).close();
    expect((await readBack(path)).records).toEqual([]);
  });

  it('takes .parquet from the extension; refuses append and gzip, saying why', async () => {
    const error = await validateConfig(fileSinkDescriptor, { path: 'out.parquet' }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(
      'mode: a Parquet file cannot be appended to (it ends with a footer that indexes its row groups): ' +
        'use mode: overwrite',
    );
    const gz = fileSinkConfigSchema.safeParse({
      path: 'x.data',
      format: 'parquet',
      mode: 'overwrite',
      compression: 'gzip',
    });
    expect(gz.error?.issues.map((i) => i.path.join('.'))).toEqual(['compression']);
    expect(fileSinkConfigSchema.parse({ path: 'x.parquet', mode: 'overwrite' })).toMatchObject({
      parquet_row_group_rows: 50_000,
      parquet_row_group_bytes: 16 * 1024 * 1024,
    });
  });
});
