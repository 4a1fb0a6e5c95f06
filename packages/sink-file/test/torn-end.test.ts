/**
 * A torn end: the start of a record without its end, left by a write that failed part-way (a full
 * disk) or that a crash interrupted. The sink cuts it, never a complete record, and says so.
 */
import { appendFile, type FileHandle, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { FaucetRecord, JsonObject, Logger } from '@faucet/core';
import { decodeCsv } from '@faucet/formats';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createFileSink,
  type FileSinkConfigInput,
  fileSinkConfigSchema,
  flushMarkPath,
} from '../src/index.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faucet-sink-file-torn-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Logged {
  message: string;
  fields: JsonObject | undefined;
}

function recorder(): { logger: Logger; warnings: Logged[] } {
  const warnings: Logged[] = [];
  return {
    warnings,
    logger: {
      debug() {},
      info() {},
      warn: (message, fields) => void warnings.push({ message, fields }),
      error() {},
    },
  };
}

const rows = (from: number, to: number): FaucetRecord[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i, name: `n${from + i}` }));
const jsonlText = (records: FaucetRecord[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');

/** An error like the one fs raises on a full disk. */
function enospc(): Error {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
}

/**
 * Opens the real file, but `failWrite(n)` makes the n-th write from now put half its bytes on disk
 * and then fail like a full disk; `failSync()` makes the next datasync fail so.
 */
function fullDisk() {
  let writesLeft = Number.POSITIVE_INFINITY;
  let syncFails = false;
  const openFile = async (path: string, flags: 'a+'): Promise<FileHandle> => {
    const handle = await open(path, flags);
    return new Proxy(handle, {
      get(target, key) {
        if (key === 'write') {
          return async (data: Buffer, offset = 0, length = data.length - offset) => {
            writesLeft--;
            if (writesLeft > 0) return target.write(data, offset, length);
            await target.write(data, offset, Math.floor(length / 2));
            throw enospc();
          };
        }
        if (key === 'datasync') {
          return async () => {
            if (syncFails) throw enospc();
            return target.datasync();
          };
        }
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  return {
    openFile,
    failWrite(n = 1) {
      writesLeft = n;
    },
    failSync() {
      syncFails = true;
    },
  };
}

function sinkWith(config: FileSinkConfigInput, logger: Logger, disk?: ReturnType<typeof fullDisk>) {
  return createFileSink(fileSinkConfigSchema.parse(config), {
    logger,
    ...(disk ? { openFile: disk.openFile } : {}),
  });
}

const ctx = { signal: new AbortController().signal, logger: recorder().logger };

describe('file sink: a write that fails part-way (a full disk)', () => {
  it('cuts the file back to its size at the last flush at once, and refuses to flush after', async () => {
    const path = join(dir, 'out.jsonl');
    const { logger, warnings } = recorder();
    const disk = fullDisk();
    const sink = sinkWith({ path, buffer_bytes: 1024 }, logger, disk);
    await sink.write(rows(1, 3), ctx);
    await sink.flush?.();
    const flushed = (await stat(path)).size;
    await sink.write(rows(4, 60), ctx); // over 1 KiB: written out, not flushed
    expect((await stat(path)).size).toBeGreaterThan(flushed);
    disk.failWrite();
    const error = await sink.write(rows(61, 120), ctx).catch((e) => e);
    expect(error.code).toBe('SINK_WRITE_FAILED');
    expect(error.message).toBe(`cannot write to ${JSON.stringify(path)}: ENOSPC`);
    // No torn line, and nothing after the last flush (no checkpoint can have covered it).
    expect(await readFile(path, 'utf8')).toBe(jsonlText(rows(1, 3)));
    const cut = warnings.find(
      (w) => w.message === 'a write failed: cut the file back to its size at the last flush',
    );
    expect(cut?.fields).toMatchObject({ file: path, size_after: flushed });
    expect((cut?.fields?.bytes_removed as number) > 0).toBe(true);
    expect(cut?.fields?.size_before).toBe(flushed + (cut?.fields?.bytes_removed as number));

    const again = await sink.flush?.().catch((e) => e);
    expect(again.code).toBe('SINK_FLUSH_FAILED');
    expect(again.message).toBe(
      `cannot flush ${JSON.stringify(path)}: an earlier write failed (ENOSPC), so rows written since the ` +
        'last flush are not in the file',
    );
    await sink.close({ status: 'failed' });
    expect(await readFile(path, 'utf8')).toBe(jsonlText(rows(1, 3)));
  });

  it('does the same when the flush fails (a full disk found at fsync), also for gzip', async () => {
    for (const name of ['out.jsonl', 'out.jsonl.gz']) {
      const path = join(dir, name);
      const { logger } = recorder();
      const disk = fullDisk();
      const sink = sinkWith({ path }, logger, disk);
      await sink.write(rows(1, 3), ctx);
      await sink.flush?.();
      await sink.write(rows(4, 6), ctx);
      disk.failSync();
      const error = await sink.flush?.().catch((e) => e);
      expect(error.code).toBe('SINK_FLUSH_FAILED');
      await sink.close();
      const bytes = await readFile(path);
      expect((name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString()).toBe(jsonlText(rows(1, 3)));
    }
  });
});

describe('file sink: a torn end left by a run killed mid-write', () => {
  it('JSON Lines: cuts the torn line on opening, naming the file and the byte counts', async () => {
    const path = join(dir, 'out.jsonl');
    const complete = jsonlText(rows(1, 3));
    await writeFile(path, `${complete}{"id":4,"na`);
    const { logger, warnings } = recorder();
    const sink = sinkWith({ path }, logger);
    await sink.write(rows(4, 5), ctx);
    await sink.close();
    expect(await readFile(path, 'utf8')).toBe(jsonlText(rows(1, 5)));
    expect(warnings.map((w) => w.message)).toEqual([
      'cut a torn record off the end of the file: a run was stopped in the middle of a write; ' +
        'those bytes were never flushed, so no checkpoint covers them',
    ]);
    expect(warnings[0]?.fields).toEqual({
      file: path,
      size_before: complete.length + 11,
      size_after: complete.length,
      bytes_removed: 11,
    });
  });

  it('JSON Lines: keeps a complete last object that only lacks its line break, and a torn first line goes', async () => {
    const path = join(dir, 'out.jsonl');
    await writeFile(path, '{"id":0}');
    const sink = sinkWith({ path }, recorder().logger);
    await sink.write(rows(1, 1), ctx);
    await sink.close();
    expect(await readFile(path, 'utf8')).toBe(`{"id":0}\n${jsonlText(rows(1, 1))}`);

    await writeFile(path, '{"id":0,"na');
    const second = sinkWith({ path }, recorder().logger);
    await second.write(rows(1, 1), ctx);
    await second.close();
    expect(await readFile(path, 'utf8')).toBe(jsonlText(rows(1, 1)));
  });

  it('CSV: cuts a torn record, also one torn after a line break inside quotes; complete records stay', async () => {
    const path = join(dir, 'out.csv');
    const { logger, warnings } = recorder();
    const first = sinkWith({ path, buffer_bytes: 1024 }, logger);
    await first.write([{ id: 1, note: 'two\nlines' }], ctx);
    await first.flush?.();
    const flushed = (await stat(path)).size;
    // Written out (a full buffer), never flushed, then the process dies in the middle of a write.
    const more = Array.from({ length: 40 }, (_, i) => ({ id: i + 2, note: `note ${'x'.repeat(30)}` }));
    await first.write(more, ctx);
    const complete = await readFile(path, 'utf8');
    expect(complete.length).toBeGreaterThan(flushed);
    await appendFile(path, '42,"torn\nin the mid');
    expect(JSON.parse((await readFile(flushMarkPath(path), 'utf8')).trim())).toMatchObject({
      v: 1,
      size: flushed,
    });

    const second = sinkWith({ path }, logger);
    await second.write([{ id: 42, note: 'whole' }], ctx);
    await second.close();
    const records = [];
    for await (const batch of decodeCsv([await readFile(path)])) records.push(...batch.records);
    expect(records.map((r) => r.id)).toEqual(Array.from({ length: 42 }, (_, i) => String(i + 1)));
    expect(records[0]).toEqual({ id: '1', note: 'two\nlines' });
    expect(records.at(-1)).toEqual({ id: '42', note: 'whole' });
    const cut = warnings.find((w) => w.message.startsWith('cut a torn record'));
    expect(cut?.fields).toEqual({
      file: path,
      size_before: complete.length + 19,
      size_after: complete.length,
      bytes_removed: 19,
      flushed_size: flushed,
    });
  });

  it('CSV without its flush mark, or with one for another file: left as it is, with a warning', async () => {
    const path = join(dir, 'out.csv');
    const first = sinkWith({ path }, recorder().logger);
    await first.write(rows(1, 2), ctx);
    await first.close();
    // The file is replaced by one written by hand whose last row has no line break.
    await writeFile(path, 'id,name\n7,"written by hand"');
    const { logger, warnings } = recorder();
    const second = sinkWith({ path }, logger);
    await second.write(rows(8, 8), ctx);
    await second.close();
    expect(await readFile(path, 'utf8')).toBe('id,name\n7,"written by hand"\n8,n8\n');
    expect(warnings.map((w) => w.message)).toEqual([
      'the file does not end with a line break; starting on a new line',
    ]);
  });

  it('gzip: cuts a torn member after the last complete one; the file reads whole', async () => {
    const path = join(dir, 'out.jsonl.gz');
    const first = sinkWith({ path, buffer_bytes: 1024 }, recorder().logger);
    await first.write(rows(1, 3), ctx);
    await first.flush?.();
    await first.write(rows(4, 80), ctx); // over 1 KiB: a complete member, not flushed
    const complete = (await stat(path)).size;
    const member = gzipSync(jsonlText(rows(81, 90)));
    await appendFile(path, member.subarray(0, member.length - 5));
    const torn = await readFile(path);
    expect(() => gunzipSync(torn)).toThrow();

    const { logger, warnings } = recorder();
    const second = sinkWith({ path }, logger);
    await second.write(rows(81, 81), ctx);
    await second.close();
    expect(gunzipSync(await readFile(path)).toString()).toBe(jsonlText(rows(1, 81)));
    expect(warnings.find((w) => w.message.startsWith('cut a torn record'))?.fields).toMatchObject({
      size_after: complete,
      bytes_removed: member.length - 5,
    });
  });
});
