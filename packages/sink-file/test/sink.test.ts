import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  ConfigError,
  type FaucetRecord,
  isFaucetError,
  type JsonObject,
  type Logger,
  runPipeline,
  type Source,
  validateConfig,
} from '@faucet/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fileSinkDescriptor, {
  createFileSink,
  type FileSinkConfigInput,
  fileSinkConfigSchema,
  stagingPath,
} from '../src/index.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faucet-sink-file-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const warnings: string[] = [];
const logger: Logger = {
  debug() {},
  info() {},
  warn: (message) => void warnings.push(message),
  error() {},
};
const sink = (config: FileSinkConfigInput) => createFileSink(fileSinkConfigSchema.parse(config), { logger });
const ctx = { signal: new AbortController().signal, logger };
const rows = (from: number, to: number): FaucetRecord[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i, name: `n${from + i}` }));
const lines = async (path: string) => (await readFile(path, 'utf8')).split('\n').filter(Boolean);
const jsonl = async (path: string) => (await lines(path)).map((l) => JSON.parse(l) as JsonObject);

describe('file sink: JSON Lines, append mode', () => {
  it('creates parent directories, writes one object per line, and never truncates on a new run', async () => {
    const path = join(dir, 'a', 'b', 'out.jsonl');
    const first = sink({ path });
    await first.write(rows(1, 3), ctx);
    await first.close();
    const second = sink({ path });
    await second.write(rows(4, 5), ctx);
    await second.close();
    expect(await jsonl(path)).toEqual(rows(1, 5));
  });

  it('holds rows until flush (or a full buffer), and flushed rows survive a crash', async () => {
    const path = join(dir, 'out.jsonl');
    const s = sink({ path });
    await s.write(rows(1, 2), ctx);
    expect(existsSync(path) ? await readFile(path, 'utf8') : '').toBe('');
    await s.flush?.();
    // No close(): the process "dies" here; another reader sees what was flushed.
    expect(await jsonl(path)).toEqual(rows(1, 2));
    await s.write(rows(3, 3), ctx); // written, never flushed: lost with the process
    const restarted = sink({ path });
    await restarted.write(rows(3, 4), ctx);
    await restarted.flush?.();
    expect(await jsonl(path)).toEqual(rows(1, 4));
  });

  it('writes a full buffer before flush', async () => {
    const path = join(dir, 'out.jsonl');
    const s = sink({ path, buffer_bytes: 1024 });
    await s.write(rows(1, 100), ctx);
    expect((await jsonl(path)).length).toBe(100);
    await s.close();
  });

  it('starts on a new line when the file does not end with one', async () => {
    const path = join(dir, 'out.jsonl');
    await writeFile(path, '{"id":0}');
    const s = sink({ path });
    await s.write(rows(1, 1), ctx);
    await s.close();
    expect(await readFile(path, 'utf8')).toBe('{"id":0}\n{"id":1,"name":"n1"}\n');
    expect(warnings).toContain('the file does not end with a line break; starting on a new line');
  });

  it('writes gzip members on each flush, readable after a crash and when appended to', async () => {
    const path = join(dir, 'out.jsonl.gz');
    const s = sink({ path });
    await s.write(rows(1, 2), ctx);
    await s.flush?.();
    await s.write(rows(3, 4), ctx);
    await s.flush?.();
    expect(gunzipSync(await readFile(path)).toString()).toBe(
      rows(1, 4)
        .map((r) => `${JSON.stringify(r)}\n`)
        .join(''),
    );
    const again = sink({ path });
    await again.write(rows(5, 5), ctx);
    await again.close();
    expect(
      gunzipSync(await readFile(path))
        .toString()
        .split('\n')
        .filter(Boolean),
    ).toHaveLength(5);
  });

  it('reports a file it cannot write as a SinkError naming the path', async () => {
    const path = join(dir, 'taken');
    await mkdir(path);
    const error = await sink({ path, format: 'jsonl' })
      .write(rows(1, 1), ctx)
      .catch((e) => e);
    expect(isFaucetError(error)).toBe(true);
    expect(error.code).toBe('SINK_WRITE_FAILED');
    expect(error.message).toContain(`cannot write to ${JSON.stringify(path)}: EISDIR`);
  });
});

describe('file sink: CSV header rules', () => {
  it('writes the header once, from the first batch, and no header into a non-empty file', async () => {
    const path = join(dir, 'out.csv');
    const first = sink({ path });
    await first.write(
      [
        { id: 1, name: 'a, b' },
        { id: 2, extra: true },
      ],
      ctx,
    );
    await first.write([{ name: 'x', id: 3 }], ctx);
    await first.close();
    expect(await readFile(path, 'utf8')).toBe('id,name,extra\n1,"a, b",\n2,,true\n3,x,\n');
  });

  it('appending to an existing CSV follows its header, whatever the key order', async () => {
    const path = join(dir, 'out.csv');
    await writeFile(path, 'name,id\nold,0\n');
    const s = sink({ path });
    await s.write([{ id: 1, name: 'new' }], ctx);
    await s.close();
    expect(await readFile(path, 'utf8')).toBe('name,id\nold,0\nnew,1\n');
  });

  it('reads the header of a gzip CSV it appends to', async () => {
    const path = join(dir, 'out.csv.gz');
    await writeFile(path, gzipSync('b,a\n2,1\n'));
    const s = sink({ path });
    await s.write([{ a: 3, b: 4 }], ctx);
    await s.close();
    expect(gunzipSync(await readFile(path)).toString()).toBe('b,a\n2,1\n4,3\n');
  });

  it('fails on a field outside the columns unless on_unknown_field: ignore; header: false', async () => {
    const path = join(dir, 'strict.csv');
    const strict = sink({ path });
    await strict.write([{ a: 1 }], ctx);
    const error = await strict.write([{ a: 2, b: 3 }], ctx).catch((e) => e);
    expect(error.code).toBe('SINK_WRITE_FAILED');
    expect(error.message).toContain('field "b" is not one of the CSV columns (a)');
    const laxPath = join(dir, 'lax.csv');
    const lax = sink({ path: laxPath, on_unknown_field: 'ignore', header: false, delimiter: ';' });
    await lax.write([{ a: 1 }], ctx);
    await lax.write([{ a: 2, b: 3 }], ctx);
    await lax.close();
    expect(await readFile(laxPath, 'utf8')).toBe('1\n2\n');
  });
});

describe('file sink: overwrite mode', () => {
  it('replaces the file atomically when the run ends; a failed run leaves the old file', async () => {
    const path = join(dir, 'out.jsonl');
    await writeFile(path, '{"old":true}\n');
    const failed = sink({ path, mode: 'overwrite' });
    await failed.write(rows(1, 3), ctx);
    await failed.flush?.();
    expect(await readFile(path, 'utf8')).toBe('{"old":true}\n');
    await failed.close({ status: 'failed' });
    expect(await readFile(path, 'utf8')).toBe('{"old":true}\n');
    expect(await jsonl(stagingPath(path))).toEqual(rows(1, 3));

    // The next run reads everything again (overwrite runs have no state store): it starts a fresh
    // staging file, so the rows the failed run staged are not written twice.
    const next = sink({ path, mode: 'overwrite' });
    await next.write(rows(1, 5), ctx);
    expect(await readFile(path, 'utf8')).toBe('{"old":true}\n');
    await next.close({ status: 'ok' });
    expect(await jsonl(path)).toEqual(rows(1, 5));
    expect(existsSync(stagingPath(path))).toBe(false);
    expect(warnings).toContain(
      'discarding the staging file of an earlier run that did not finish; this run starts over',
    );
  });

  it('a crash (no close) leaves the old file; a run with no rows leaves an empty file', async () => {
    const path = join(dir, 'out.jsonl');
    await writeFile(path, '{"old":true}\n');
    const crashed = sink({ path, mode: 'overwrite' });
    await crashed.write(rows(1, 2), ctx);
    await crashed.flush?.();
    expect(await readFile(path, 'utf8')).toBe('{"old":true}\n');
    await rm(stagingPath(path)); // the user starts over
    const empty = sink({ path, mode: 'overwrite' });
    await empty.close();
    expect(await readFile(path, 'utf8')).toBe('');
  });

  it('through runPipeline: a failed run leaves the old file; the next run leaves every row, once', async () => {
    const path = join(dir, 'out.jsonl');
    await writeFile(path, '{"old":true}\n');
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
    // No state store: each run reads everything (with a durable one, overwrite is refused).
    const options = { pipeline: 'overwrite', batchSize: 10, retry: false as const };
    const first = sink({ path, mode: 'overwrite' });
    const failed = await runPipeline({ ...options, source: source(3), sink: first });
    expect(failed.status).toBe('failed');
    await first.close({ status: failed.status });
    expect(await readFile(path, 'utf8')).toBe('{"old":true}\n');

    const second = sink({ path, mode: 'overwrite' });
    const ok = await runPipeline({ ...options, source: source(), sink: second });
    expect(ok.status).toBe('ok');
    await second.close({ status: ok.status });
    expect(await jsonl(path)).toEqual(all);
  });

  it('is refused with a durable state store (checkUse), for the sink and for a dead-letter sink', () => {
    const overwrite = fileSinkConfigSchema.parse({ path: 'out.jsonl', mode: 'overwrite' });
    const append = fileSinkConfigSchema.parse({ path: 'out.jsonl' });
    const check = fileSinkDescriptor.checkUse as NonNullable<typeof fileSinkDescriptor.checkUse>;
    expect(check(overwrite, { role: 'sink', durableState: false })).toEqual([]);
    expect(check(append, { role: 'sink', durableState: true })).toEqual([]);
    const [issue] = check(overwrite, { role: 'sink', durableState: true });
    expect(issue?.path).toBe('mode');
    expect(issue?.message).toMatch(/^overwrite cannot be used with a state store: .* Use mode: append/);
    const [dlq] = check(overwrite, { role: 'dlq', durableState: true });
    expect(dlq?.message).toMatch(/^overwrite cannot be used for a dead-letter file with a state store/);
  });
});

describe('file sink: config', () => {
  it('takes the format from the extension and refuses paths it cannot tell', async () => {
    const error = await validateConfig(fileSinkDescriptor, { path: 'out.txt' }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('format: cannot tell the format of "out.txt" from its extension');
    const config = await validateConfig(fileSinkDescriptor, { path: 'out.csv.gz' });
    expect(config).toMatchObject({
      mode: 'append',
      compression: 'auto',
      header: true,
      on_unknown_field: 'error',
    });
    const bad = await validateConfig(fileSinkDescriptor, { path: 'a.jsonl', mode: 'replace', x: 1 }).catch(
      (e) => e,
    );
    expect(bad.issues.map((i: { path: string }) => i.path).sort()).toEqual(['', 'mode']);
  });
});
