import { describe, expect, it } from 'vitest';
import { DecodeError, decodeCsv, readCsvHeader } from '../src/index.js';
import { collect, neverEnding, pieces, randomPieces, records, within } from './helpers.js';

const RFC = [
  'id,name,note',
  '1,plain,simple',
  '2,"with, comma","say ""hi"""',
  '3,"multi',
  'line","crlf inside\r\nquotes"',
  '4,,""',
  '5,é ü 日本,"😀 emoji"',
].join('\r\n');

const RFC_RECORDS = [
  { id: '1', name: 'plain', note: 'simple' },
  { id: '2', name: 'with, comma', note: 'say "hi"' },
  { id: '3', name: 'multi\r\nline', note: 'crlf inside\r\nquotes' },
  { id: '4', name: '', note: '' },
  { id: '5', name: 'é ü 日本', note: '😀 emoji' },
];

describe('CSV decoding (RFC 4180)', () => {
  it('reads quotes, embedded delimiters, newlines, "" escapes and CRLF', async () => {
    expect(await records(decodeCsv([RFC]))).toEqual(RFC_RECORDS);
  });

  it('gives the same records however the input is cut: whole, one byte at a time, at random', async () => {
    const cuts = [
      pieces(RFC, 1),
      pieces(RFC, 2),
      pieces(RFC, 3),
      randomPieces(RFC, 7),
      randomPieces(RFC, 99),
    ];
    for (const input of cuts) expect(await records(decodeCsv(input))).toEqual(RFC_RECORDS);
  });

  it('handles LF line ends, a trailing line break and a missing one alike', async () => {
    const lf = 'a,b\n1,2\n3,4';
    expect(await records(decodeCsv([lf]))).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
    expect(await records(decodeCsv([`${lf}\n`]))).toEqual(await records(decodeCsv([lf])));
    expect(await records(decodeCsv([`${lf}\r\n`]))).toEqual(await records(decodeCsv([lf])));
  });

  it('keeps an empty last field (a,b,) and skips blank lines', async () => {
    expect(await records(decodeCsv(['a,b,c\n1,2,\n\n\r\n3,4,5\n\n']))).toEqual([
      { a: '1', b: '2', c: '' },
      { a: '3', b: '4', c: '5' },
    ]);
    expect(await records(decodeCsv(pieces('a,b,c\n1,2,', 1)))).toEqual([{ a: '1', b: '2', c: '' }]);
  });

  it('strips a byte-order mark, also when it arrives one byte at a time', async () => {
    const text = '\uFEFFid,name\n1,x\n';
    for (const input of [[text], pieces(text, 1)]) {
      expect(await records(decodeCsv(input))).toEqual([{ id: '1', name: 'x' }]);
    }
  });

  it('supports another delimiter and quote character', async () => {
    const text = "a;b\n'x;y';'it''s'\n";
    expect(await records(decodeCsv([text], { delimiter: ';', quote: "'" }))).toEqual([
      { a: 'x;y', b: "it's" },
    ]);
  });

  it('names columns column_1..N without a header row', async () => {
    expect(await records(decodeCsv(['1,2\n3,4\n'], { hasHeader: false }))).toEqual([
      { column_1: '1', column_2: '2' },
      { column_1: '3', column_2: '4' },
    ]);
  });

  it('names an empty header cell column_<n>; refuses duplicate headers naming file and line', async () => {
    expect(await records(decodeCsv(['a,,c\n1,2,3\n']))).toEqual([{ a: '1', column_2: '2', c: '3' }]);
    const error = await collect(decodeCsv(['\n\nid,name,id\n1,2,3\n'], { name: 'data/x.csv' })).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(DecodeError);
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toMatch(/^data\/x\.csv:3: duplicate column "id"/);
  });

  it('keeps header names that look like values or prototypes as plain keys', async () => {
    const [record] = await records(decodeCsv(['__proto__,constructor,1\nx,y,z\n'], { typed: true }));
    // Integer-like keys come first in any JavaScript object, as JSON.parse would order them too.
    expect(Object.keys(record ?? {})).toEqual(['1', '__proto__', 'constructor']);
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(JSON.stringify(record)).toBe('{"1":"z","__proto__":"x","constructor":"y"}');
  });

  it('keeps every value a string by default and converts them with typed: true', async () => {
    const text = 'i,f,t,f2,e,q,s,big,neg,exp\n42,3.5,true,false,,"",text,9007199254740993,-7,1e3\n';
    expect(await records(decodeCsv([text]))).toEqual([
      {
        i: '42',
        f: '3.5',
        t: 'true',
        f2: 'false',
        e: '',
        q: '',
        s: 'text',
        big: '9007199254740993',
        neg: '-7',
        exp: '1e3',
      },
    ]);
    expect(await records(decodeCsv([text], { typed: true }))).toEqual([
      {
        i: 42,
        f: 3.5,
        t: true,
        f2: false,
        e: null,
        q: '',
        s: 'text',
        big: '9007199254740993',
        neg: -7,
        exp: 1000,
      },
    ]);
  });

  it('rejects a ragged row naming the file and the line, unless flexible', async () => {
    const text = 'a,b,c\n1,2,3\n"x\ny",2\n';
    const error = await collect(decodeCsv([text], { name: 'in.csv' })).catch((e) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect(error.message).toBe(
      'in.csv:3: expected 3 fields (as in the header), found 2; ' +
        'fix the row, or set flexible: true to accept rows of any length' +
        ' (to dead-letter bad records and go on, set on_record_error: dlq with a dlq)',
    );
    expect(error.line).toBe(3);
    expect(await records(decodeCsv(['a,b\n1\n1,2,3\n'], { flexible: true }))).toEqual([
      { a: '1' },
      { a: '1', b: '2', column_3: '3' },
    ]);
  });

  it('reports an unclosed quote and a stray character after a closing quote', async () => {
    const open = await collect(decodeCsv(['a,b\n1,"never closed\n2,3\n'], { name: 'q.csv' })).catch((e) => e);
    expect(open.message).toBe('q.csv:2: a quoted field is not closed before the end of the input');
    const stray = await collect(decodeCsv(['a,b\n1,"x"y\n'], { name: 'q.csv' })).catch((e) => e);
    expect(stray.message).toMatch(/^q\.csv:2: unexpected "y" after a closing quote/);
  });

  it('rejects invalid UTF-8 and reads Latin-1 when told', async () => {
    const latin1 = Buffer.from('name\ncaf\xe9\n', 'latin1');
    const error = await collect(decodeCsv([latin1], { name: 'l.csv' })).catch((e) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect(error.message).toMatch(/^l\.csv: the input is not valid UTF-8/);
    expect(await records(decodeCsv([latin1], { encoding: 'latin1' }))).toEqual([{ name: 'café' }]);
  });

  it('guards memory against a quote that never closes', async () => {
    const text = `a\n"${'x'.repeat(5000)}`;
    const error = await collect(decodeCsv(pieces(text, 100), { maxRecordBytes: 1000, name: 'q.csv' })).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(DecodeError);
    expect(error.message).toBe(
      'q.csv:2: the record starting at byte 2 is larger than max_record_bytes (1000 bytes). ' +
        'Is a quote left open? Raise max_record_bytes if records are meant to be that large.',
    );
    // The option's earlier name still works.
    const old = await collect(decodeCsv(pieces(text, 100), { maxRecordChars: 1000 })).catch((e) => e);
    expect(old.message).toMatch(/larger than max_record_bytes \(1000 bytes\)/);
  });
});

describe('CSV batches and byte offsets', () => {
  it('yields batches of at most batchSize with the exact byte offset and line after each', async () => {
    const bytes = Buffer.from(RFC, 'utf8');
    for (const input of [[RFC], pieces(RFC, 1)]) {
      const batches = await collect(decodeCsv(input, { batchSize: 2 }));
      expect(batches.map((b) => b.records.length)).toEqual([2, 2, 1]);
      expect(batches.at(-1)?.offset).toBe(bytes.length);
      // Each offset is right after a record: the bytes before it end with a line break.
      for (const batch of batches.slice(0, -1)) expect(bytes[batch.offset - 1]).toBe(10);
      // Record 3 spans lines 4-6 (two quoted line breaks); the last record has no line break.
      expect(batches.map((b) => b.line)).toEqual([3, 7, 7]);
    }
  });

  it('resumes from any reported offset with exactly the remaining records', async () => {
    const bytes = Buffer.from(`\uFEFF${RFC}\r\n`, 'utf8');
    const header = await readCsvHeader([bytes]);
    expect(header).toEqual({
      columns: ['id', 'name', 'note'],
      offset: 3 + 'id,name,note\r\n'.length,
      line: 1,
    });
    const batches = await collect(decodeCsv([bytes], { batchSize: 1 }));
    for (const [i, batch] of batches.entries()) {
      const rest = await records(
        decodeCsv(pieces(bytes.subarray(batch.offset), 3), {
          columns: header?.columns ?? [],
          startOffset: batch.offset,
          startLine: batch.line,
        }),
      );
      expect(rest).toEqual(RFC_RECORDS.slice(i + 1));
    }
  });

  it('keeps counting lines from startLine in errors after a resume', async () => {
    const error = await collect(
      decodeCsv(['1,2\n3\n'], { columns: ['a', 'b'], startOffset: 100, startLine: 41, name: 'r.csv' }),
    ).catch((e) => e);
    expect(error.message).toMatch(/^r\.csv:43: expected 2 fields/);
  });

  it('yields its first batch before the input ends (streaming)', async () => {
    const row = '1,Ada,"{""tier"":""pro""}"\n';
    const first = Buffer.from(`id,name,attributes\n${row.repeat(40_000)}`); // > 1 MB
    const iterator = decodeCsv(neverEnding(pieces(first, 64 * 1024)), { batchSize: 1000 });
    const batch = await within(iterator.next(), 5000);
    expect(batch.done).toBe(false);
    expect(batch.value?.records).toHaveLength(1000);
    expect(batch.value?.records[0]).toEqual({ id: '1', name: 'Ada', attributes: '{"tier":"pro"}' });
  });

  it('reads only the header row and stops', async () => {
    let served = 0;
    async function* input() {
      for (let i = 0; i < 100; i++) {
        served++;
        yield Buffer.from(i === 0 ? 'a,"b\nc"\n1,2\n' : '3,4\n'.repeat(100));
      }
    }
    expect(await readCsvHeader(input())).toEqual({ columns: ['a', 'b\nc'], offset: 8, line: 2 });
    expect(served).toBe(1);
    expect(await readCsvHeader([])).toBeUndefined();
  });
});
