import { appendFile, mkdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ConfigError, isFaucetError, type JsonObject } from '@faucet/core';
import { describe, expect, it } from 'vitest';
import fileSourceDescriptor, { type FileBookmark } from '../src/index.js';
import {
  csvRows,
  fileSource,
  ids,
  jsonlRows,
  lastBookmark,
  range,
  readPages,
  recordingLogger,
  recordsOf,
  useTempDir,
} from './helpers.js';

const temp = useTempDir();

describe('file source: paths, globs and formats', () => {
  it('reads the files a glob matches in sorted order, in pages of batch_size across files', async () => {
    await mkdir('data/sub', { recursive: true });
    await writeFile('data/b.csv', csvRows(6, 12));
    await writeFile('data/a.csv', csvRows(1, 5));
    await writeFile('data/c.jsonl', jsonlRows(100, 101)); // not matched by *.csv
    await writeFile('data/sub/d.csv', csvRows(50, 50)); // not matched: * does not cross directories
    const pages = await readPages(fileSource({ path: 'data/*.csv' }), { batchSize: 4 });
    expect(ids(recordsOf(pages))).toEqual(range(1, 12));
    expect(pages.map((p) => p.records.length)).toEqual([4, 4, 4, 0]); // the last page: the final bookmark
    for (const page of pages) expect(page.bookmark).toBeDefined();
    const bookmark = lastBookmark(pages) as unknown as FileBookmark;
    expect(Object.keys(bookmark.files)).toEqual(['data/a.csv', 'data/b.csv']);
    expect(bookmark.files['data/a.csv']).toMatchObject({ offset: csvRows(1, 5).length, done: true, line: 6 });
  });

  it('reads every file of a recursive glob, CSV values as strings with the header as keys', async () => {
    await mkdir('logs/2024/01', { recursive: true });
    await writeFile('logs/2024/01/x.csv', 'id,name\n1,"a, b"\n');
    await writeFile('logs/y.csv', 'id,name\n2,c\n');
    const records = recordsOf(await readPages(fileSource({ path: 'logs/**/*.csv' })));
    expect(records).toEqual([
      { id: '1', name: 'a, b' },
      { id: '2', name: 'c' },
    ]);
  });

  it('reads JSON Lines, JSON arrays and gzip files by extension, or as told by format', async () => {
    await writeFile('a.jsonl', jsonlRows(1, 2));
    await writeFile('b.json', JSON.stringify([{ id: 3 }, { id: 4 }]));
    await writeFile('c.jsonl.gz', gzipSync(jsonlRows(5, 6)));
    await writeFile('d.csv.gz', gzipSync(csvRows(7, 8)));
    await writeFile('e.txt', jsonlRows(9, 9));
    const all = await readPages(fileSource({ path: '*.{jsonl,json,gz}' }));
    expect(ids(recordsOf(all))).toEqual(range(1, 8));
    const told = await readPages(fileSource({ path: 'e.txt', format: 'jsonl' }));
    expect(ids(recordsOf(told))).toEqual([9]);
  });

  it('takes a path with glob characters literally when such a file exists', async () => {
    await writeFile('[weird].csv', csvRows(1, 2));
    expect(ids(recordsOf(await readPages(fileSource({ path: '[weird].csv' }))))).toEqual([1, 2]);
  });

  it('converts CSV values with typed: true and reads other delimiters', async () => {
    await writeFile('t.csv', 'a;b;c\n1;2.5;true\n;x;false\n');
    const records = recordsOf(await readPages(fileSource({ path: 't.csv', delimiter: ';', typed: true })));
    expect(records).toEqual([
      { a: 1, b: 2.5, c: true },
      { a: null, b: 'x', c: false },
    ]);
  });
});

describe('file source: check, discover and config errors', () => {
  it('check() fails naming the pattern when nothing matches, and passes when something does', async () => {
    const error = await fileSource({ path: 'nothing/*.csv' })
      .check?.()
      .catch((e) => e);
    expect(isFaucetError(error)).toBe(true);
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toContain('no file matches "nothing/*.csv"');
    await expect(readPages(fileSource({ path: 'nothing/*.csv' }))).rejects.toThrow(/no file matches/);
    await expect(fileSource({ path: 'nothing/*.csv', allow_empty: true }).check?.()).resolves.toBeUndefined();
    const empty = await readPages(fileSource({ path: 'nothing/*.csv', allow_empty: true }));
    expect(recordsOf(empty)).toEqual([]);
    await writeFile('x.csv', csvRows(1, 1));
    await expect(fileSource({ path: '*.csv' }).check?.()).resolves.toBeUndefined();
  });

  it('refuses a directory and a file whose format it cannot tell, with a hint', async () => {
    await mkdir('dir');
    await writeFile('notes.txt', 'x');
    const dir = await fileSource({ path: 'dir' })
      .check?.()
      .catch((e) => e);
    expect(dir).toBeInstanceOf(ConfigError);
    expect(dir.message).toContain('"dir" is a directory; use a glob such as "dir/*.csv"');
    const txt = await fileSource({ path: 'notes.txt' })
      .check?.()
      .catch((e) => e);
    expect(txt).toBeInstanceOf(ConfigError);
    expect(txt.message).toContain('set format: csv | jsonl | json');
  });

  it('validates its config through the descriptor, listing every problem', async () => {
    const { validateConfig } = await import('@faucet/core');
    const error = await validateConfig(fileSourceDescriptor, { path: '', delimiter: ';;', bogus: 1 }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['', 'delimiter', 'path']);
    const ok = await validateConfig(fileSourceDescriptor, { path: 'a.csv' });
    expect(ok).toMatchObject({ path: 'a.csv', has_headers: true, delimiter: ',', typed: false });
  });

  it('discover() infers a schema from the first rows', async () => {
    await writeFile('d.jsonl', '{"id":1,"s":"a","f":1.5,"n":null}\n{"id":2,"s":"b","f":2,"o":{"x":1}}\n');
    const [stream] = (await fileSource({ path: 'd.jsonl' }).discover?.()) ?? [];
    expect(stream?.name).toBe('d.jsonl');
    const schema = stream?.schema as JsonObject;
    expect(schema.properties).toEqual({
      id: { type: 'integer' },
      s: { type: 'string' },
      f: { type: 'number' },
      n: { type: 'null' },
      o: { type: 'object' },
    });
    expect(schema.required).toEqual(['id', 's', 'f']);
  });

  it('reports a bad line naming the file and its true line, also after a resume', async () => {
    await writeFile('bad.jsonl', `${jsonlRows(1, 25)}{"id": oops}\n`);
    const source = fileSource({ path: 'bad.jsonl' });
    const pages = await readPages(source, { batchSize: 10, maxPages: 2 });
    const error = await readPages(source, { bookmark: lastBookmark(pages), batchSize: 10 }).catch((e) => e);
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toMatch(/^bad\.jsonl:26: invalid JSON/);
  });
});

describe('file source: max_record_bytes', () => {
  it('fails on a record over the cap naming file, line, byte offset and cap, also after a resume', async () => {
    const huge = `{"id":26,"blob":"${'x'.repeat(5000)}"}\n`;
    await writeFile('big.jsonl', `${jsonlRows(1, 25)}${huge}${jsonlRows(27, 27)}`);
    const source = fileSource({ path: 'big.jsonl', max_record_bytes: 4096 });
    const pages = await readPages(source, { batchSize: 10, maxPages: 2 });
    const error = await readPages(source, { bookmark: lastBookmark(pages), batchSize: 10 }).catch((e) => e);
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toBe(
      `big.jsonl:26: the record starting at byte ${jsonlRows(1, 25).length} is larger than max_record_bytes ` +
        '(4096 bytes). Does the file have line breaks? Raise max_record_bytes if records are meant to be ' +
        'that large.',
    );
    // Raised, the same file reads to the end.
    const all = await readPages(fileSource({ path: 'big.jsonl', max_record_bytes: 8192 }), { batchSize: 10 });
    expect(ids(recordsOf(all))).toEqual(range(1, 27));
  });

  it('applies to CSV, where an unclosed quote would otherwise hold the rest of the file', async () => {
    await writeFile('open.csv', `id,note\n1,"fine"\n2,"never closed\n${'3,x\n'.repeat(2000)}`);
    const error = await readPages(fileSource({ path: 'open.csv', max_record_bytes: 1024 })).catch((e) => e);
    expect(error.message).toMatch(
      /^open\.csv:3: the record starting at byte 17 is larger than max_record_bytes \(1024 bytes\)\. Is a quote left open\?/,
    );
  });

  it('defaults to 64 MiB and refuses a cap that is not a positive whole number', () => {
    expect(fileSourceDescriptor.configSchema['~standard'].validate({ path: 'x' })).toMatchObject({
      value: { max_record_bytes: 64 * 1024 * 1024 },
    });
    const bad = fileSourceDescriptor.configSchema['~standard'].validate({ path: 'x', max_record_bytes: 0 });
    expect((bad as { issues?: unknown[] }).issues).toHaveLength(1);
  });
});

describe('file source: resume by byte offset', () => {
  it('resumes after 3 pages with exactly the rest, then reads only rows appended later', async () => {
    await writeFile('events.jsonl', jsonlRows(1, 100));
    const source = fileSource({ path: 'events.jsonl' });
    const first = await readPages(source, { batchSize: 10, maxPages: 3 });
    expect(ids(recordsOf(first))).toEqual(range(1, 30));
    const rest = await readPages(source, { bookmark: lastBookmark(first), batchSize: 10 });
    expect(ids(recordsOf(rest))).toEqual(range(31, 100));

    await appendFile('events.jsonl', jsonlRows(101, 107));
    const appended = await readPages(source, { bookmark: lastBookmark(rest), batchSize: 10 });
    expect(ids(recordsOf(appended))).toEqual(range(101, 107));

    const nothing = await readPages(source, { bookmark: lastBookmark(appended), batchSize: 10 });
    expect(recordsOf(nothing)).toEqual([]);
  });

  it('resumes a CSV file mid-file with its header, and a gzip file by decompressed offset', async () => {
    await writeFile('a.csv', csvRows(1, 50));
    await writeFile('b.jsonl.gz', gzipSync(jsonlRows(51, 80)));
    const source = fileSource({ path: '*.{csv,gz}' });
    const first = await readPages(source, { batchSize: 7, maxPages: 3 });
    const csvRest = await readPages(source, { bookmark: lastBookmark(first), batchSize: 7 });
    expect(recordsOf(csvRest)[0]).toEqual({ id: '22', name: 'name 22', updated_at: '2024-01-23' });
    expect(ids(recordsOf(csvRest))).toEqual(range(22, 80));
    // Stop inside the gzip file, resume, then append a second gzip member.
    const partial = await readPages(source, { batchSize: 7, maxPages: 9 });
    expect(ids(recordsOf(partial)).at(-1)).toBe(63);
    const gzRest = await readPages(source, { bookmark: lastBookmark(partial), batchSize: 7 });
    expect(ids(recordsOf(gzRest))).toEqual(range(64, 80));
    await appendFile('b.jsonl.gz', gzipSync(jsonlRows(81, 83)));
    const more = await readPages(source, { bookmark: lastBookmark(gzRest), batchSize: 7 });
    expect(ids(recordsOf(more))).toEqual([81, 82, 83]);
  });

  it('resumes a JSON array file after the last element read', async () => {
    await writeFile('a.json', JSON.stringify(range(1, 30).map((id) => ({ id }))));
    const source = fileSource({ path: 'a.json' });
    const first = await readPages(source, { batchSize: 8, maxPages: 2 });
    const rest = await readPages(source, { bookmark: lastBookmark(first), batchSize: 8 });
    expect(ids(recordsOf(rest))).toEqual(range(17, 30));
  });

  it('reads new files, skips finished ones and forgets files that are gone', async () => {
    await writeFile('1.jsonl', jsonlRows(1, 3));
    await writeFile('2.jsonl', jsonlRows(4, 6));
    const source = fileSource({ path: '*.jsonl' });
    const first = await readPages(source);
    await writeFile('3.jsonl', jsonlRows(7, 8));
    await rm('1.jsonl');
    const second = await readPages(source, { bookmark: lastBookmark(first) });
    expect(ids(recordsOf(second))).toEqual([7, 8]);
    const bookmark = lastBookmark(second) as unknown as FileBookmark;
    expect(Object.keys(bookmark.files)).toEqual(['2.jsonl', '3.jsonl']);
  });

  it('reads a file again from the start, with a warning, when it shrank or was replaced', async () => {
    await writeFile('f.jsonl', jsonlRows(1, 20));
    const source = fileSource({ path: 'f.jsonl' });
    const first = await readPages(source);

    // Truncated and rewritten smaller.
    const shrinkReason = `it shrank from ${jsonlRows(1, 20).length} to ${jsonlRows(500, 502).length} bytes`;
    await writeFile('f.jsonl', jsonlRows(500, 502));
    const logger = recordingLogger();
    const shrunk = await readPages(source, { bookmark: lastBookmark(first), logger });
    expect(ids(recordsOf(shrunk))).toEqual([500, 501, 502]);
    expect(logger.lines).toContainEqual({
      level: 'warn',
      message: 'file changed since it was read; reading it again from the start',
      fields: { file: 'f.jsonl', reason: shrinkReason },
    });

    // Rewritten in place, larger, same inode: the fingerprint of the bytes already read differs.
    await writeFile('f.jsonl', jsonlRows(600, 630));
    const rewritten = await readPages(source, { bookmark: lastBookmark(shrunk), logger });
    expect(ids(recordsOf(rewritten))).toEqual(range(600, 630));

    // Replaced by another file (rename over it: a new inode), same content prefix plus more.
    await writeFile('g.tmp', jsonlRows(600, 640));
    await rename('g.tmp', 'f.jsonl');
    const replaced = await readPages(source, { bookmark: lastBookmark(rewritten), logger });
    expect(ids(recordsOf(replaced))).toEqual(range(600, 640));
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.fields?.reason)).toEqual([
      shrinkReason,
      'the bytes already read changed (it was rewritten)',
      'it was replaced (another inode)',
    ]);
  });

  it('does not read a file again when only its modification time changed', async () => {
    await writeFile('f.jsonl', jsonlRows(1, 5));
    const source = fileSource({ path: 'f.jsonl' });
    const first = await readPages(source);
    await utimes('f.jsonl', new Date(), new Date(Date.now() + 60_000));
    const again = await readPages(source, { bookmark: lastBookmark(first) });
    expect(recordsOf(again)).toEqual([]);
  });

  it('refuses a bookmark of another source with a clear message', async () => {
    await writeFile('f.jsonl', jsonlRows(1, 1));
    const error = await readPages(fileSource({ path: 'f.jsonl' }), { bookmark: { lsn: '0/1' } }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('the stored bookmark is not one of the file source');
  });

  it('streams: the first page comes before a large file is decoded', async () => {
    await writeFile(join(temp.dir, 'big.jsonl'), jsonlRows(1, 50_000));
    const source = fileSource({ path: 'big.jsonl' });
    const iterator = source
      .read({
        bookmark: undefined,
        batchSize: 100,
        signal: new AbortController().signal,
        logger: recordingLogger(),
      })
      [Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value?.records).toHaveLength(100);
    expect(source.progress.records).toBeLessThan(1000);
    await iterator.return?.();
  });
});

describe('file source: incremental by cursor field', () => {
  const incremental = { type: 'Incremental' as const, cursor_field: 'ts' };
  const line = (id: number, ts: string) => `${JSON.stringify({ id, ts })}\n`;

  it('keeps records after start_value, then after the stored max; the bookmark holds the max', async () => {
    await writeFile('a.jsonl', line(1, '2024-01-05') + line(2, '2024-01-01') + line(3, '2024-01-09'));
    const source = fileSource({
      path: '*.jsonl',
      replication_method: { ...incremental, start_value: '2024-01-02' },
    });
    const first = await readPages(source);
    expect(ids(recordsOf(first))).toEqual([1, 3]);
    expect((lastBookmark(first) as JsonObject).cursor).toBe('2024-01-09');

    // A rewritten export is read again from the start; the cursor drops what was already read.
    await writeFile('a.jsonl', line(1, '2024-01-05') + line(3, '2024-01-09') + line(4, '2024-01-10'));
    await writeFile('b.jsonl', line(5, '2024-01-08') + line(6, '2024-01-11'));
    const second = await readPages(source, { bookmark: lastBookmark(first) });
    expect(ids(recordsOf(second))).toEqual([4, 6]);
    expect((lastBookmark(second) as JsonObject).cursor).toBe('2024-01-11');
  });

  it('keeps the start cursor through a mid-run resume, so unordered files lose nothing', async () => {
    // Cursor values are not in file order: 9 comes before 2.
    await writeFile('a.jsonl', [9, 2, 3, 8, 4, 5].map((n, i) => line(i + 1, `2024-01-0${n}`)).join(''));
    const source = fileSource({
      path: 'a.jsonl',
      replication_method: { ...incremental, start_value: '2024-01-01' },
    });
    const first = await readPages(source, { batchSize: 2, maxPages: 1 });
    expect(first[0]?.bookmark).toMatchObject({ cursor: '2024-01-01', pending_max: '2024-01-09' });
    const rest = await readPages(source, { bookmark: lastBookmark(first), batchSize: 2 });
    expect(ids(recordsOf(rest))).toEqual([3, 4, 5, 6]);
    const final = lastBookmark(rest) as JsonObject;
    expect(final.cursor).toBe('2024-01-09');
    expect(final.pending_max).toBeUndefined();
  });
});
