/**
 * Records cut by chunk boundaries: the same records whatever the cuts, linear work for one huge
 * record, and the record-size cap (`maxRecordBytes`).
 */
import { describe, expect, it } from 'vitest';
import {
  completeCsvRecordsLength,
  DecodeError,
  decodeCsv,
  decodeJsonArray,
  decodeJsonl,
  decodeRecords,
  type RecordFormat,
} from '../src/index.js';
import { collect, pieces, randomPieces, records } from './helpers.js';

/**
 * Characters of the strings searched with String.prototype.indexOf while `run` runs: a bound on
 * the work a decoder does (not on time). Decoders that search `leftover + chunk` again for every
 * chunk search the record once per chunk; linear ones search each chunk about once.
 */
async function searchedChars(run: () => Promise<unknown>): Promise<number> {
  const original = String.prototype.indexOf;
  let searched = 0;
  String.prototype.indexOf = function (this: string, ...args: Parameters<string['indexOf']>) {
    searched += this.length;
    return original.apply(this, args);
  };
  try {
    await run();
  } finally {
    String.prototype.indexOf = original;
  }
  return searched;
}

/** Every way to cut `text` that the tests use: whole, 1..7 bytes, and seeded random places. */
function cuts(text: string): Buffer[][] {
  const out: Buffer[][] = [[Buffer.from(text)]];
  for (let size = 1; size <= 7; size++) out.push(pieces(text, size));
  for (let seed = 1; seed <= 5; seed++) out.push(randomPieces(text, seed));
  return out;
}

const BLOB = 'abcdefghij'.repeat(100_000); // 1 MB
const CHUNK = 4096;

describe('a record cut by chunk boundaries', () => {
  it('JSON Lines: the same records and offsets however the input is cut, multi-byte characters too', async () => {
    const text =
      '{"id":1,"s":"Grüße 😀 ✓"}\r\n' +
      `{"id":2,"long":"${'é😀x'.repeat(3000)}"}\n\n` +
      '{"id":3,"crlf":"a\\r\\nb"}\r\n' +
      '{"id":4}';
    const whole = await collect(decodeJsonl([text], { batchSize: 1 }));
    expect(whole.flatMap((b) => b.records).map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect(whole.at(-1)?.offset).toBe(Buffer.byteLength(text));
    for (const input of cuts(text)) {
      expect(await collect(decodeJsonl(input, { batchSize: 1 }))).toEqual(whole);
    }
  });

  it('CSV: quotes, doubled quotes, delimiters and line breaks inside quotes, CRLF, cut anywhere', async () => {
    const text =
      'id,note,tail\r\n' +
      '1,"say ""hi"", then\r\nleave",x\r\n' +
      `2,"${'ä"",\n'.repeat(500)}",y\n` +
      '3,"",""\r\n' +
      '4,"ends with a quote""",z\n' +
      '5,plain,"\n"';
    const whole = await collect(decodeCsv([text], { batchSize: 1 }));
    expect(whole.flatMap((b) => b.records).map((r) => r.id)).toEqual(['1', '2', '3', '4', '5']);
    expect(whole[0]?.records[0]).toEqual({ id: '1', note: 'say "hi", then\r\nleave', tail: 'x' });
    expect(whole.at(-1)?.records.at(-1)).toEqual({ id: '5', note: 'plain', tail: '\n' });
    for (const input of cuts(text)) {
      expect(await collect(decodeCsv(input, { batchSize: 1 }))).toEqual(whole);
    }
  });

  it('JSON arrays: escaped quotes and runs of backslashes cut between chunks', async () => {
    const text = `[{"a":"x\\\\"},{"b":"q\\"\\\\\\"}"},\r\n{"c":"${'\\\\'.repeat(7)}\\"${'ü'.repeat(900)}"},{"d":[{"e":"}"}]}]`;
    const whole = await collect(decodeJsonArray([text], { batchSize: 1 }));
    expect(whole.flatMap((b) => b.records)).toEqual(JSON.parse(text));
    for (const input of cuts(text)) {
      expect(await collect(decodeJsonArray(input, { batchSize: 1 }))).toEqual(whole);
    }
  });

  it('reads a 1 MB record in 4 KiB chunks with linear work, in every format', async () => {
    const cases: Array<[RecordFormat, string]> = [
      ['jsonl', `{"id":1}\n{"blob":"${BLOB}"}\n{"id":3}\n`],
      ['csv', `id,blob\n1,x\n2,"${BLOB}"\n3,x\n`],
      ['json', `[{"id":1},{"blob":"${BLOB}"},{"id":3}]`],
    ];
    for (const [format, text] of cases) {
      let got: Awaited<ReturnType<typeof records>> = [];
      const searched = await searchedChars(async () => {
        got = await records(decodeRecords(format, pieces(text, CHUNK)));
      });
      expect(got).toHaveLength(3);
      expect(got[1]?.blob).toBe(BLOB);
      // About once over the input; searching the record again for each of its 256 chunks is ~128x.
      expect(searched, format).toBeLessThan(8 * text.length);
    }
  });

  it('reaches the unclosed-quote error of a 1 MB CSV record with linear work', async () => {
    const text = `id,blob\n1,"${BLOB}\n`;
    let error: unknown;
    const searched = await searchedChars(async () => {
      error = await collect(decodeCsv(pieces(text, CHUNK), { name: 'open.csv' })).catch((e) => e);
    });
    expect((error as Error).message).toBe(
      'open.csv:2: a quoted field is not closed before the end of the input',
    );
    expect(searched).toBeLessThan(8 * text.length);
  });
});

describe('the record-size cap (maxRecordBytes)', () => {
  const cap = 1000;

  it('JSON Lines: a line over the cap names the file, line, byte offset and cap; one at the cap passes', async () => {
    const at = `{"s":"${'x'.repeat(cap - 8)}"}`; // exactly `cap` bytes
    expect(Buffer.byteLength(at)).toBe(cap);
    const over = `{"s":"${'é'.repeat(cap / 2)}"}`; // fewer characters than the cap, more bytes
    const text = `{"id":1}\n${at}\r\n${over}\n`;
    for (const input of [[text], pieces(text, 64), pieces(text, 1)]) {
      const batches: unknown[] = [];
      const error = await (async () => {
        for await (const batch of decodeJsonl(input, {
          maxRecordBytes: cap,
          name: 'big.jsonl',
          batchSize: 1,
        })) {
          batches.push(batch);
        }
      })().catch((e) => e);
      expect(batches).toHaveLength(2);
      expect(error).toBeInstanceOf(DecodeError);
      const offset = Buffer.byteLength(`{"id":1}\n${at}\r\n`);
      expect(error.message).toBe(
        `big.jsonl:3: the record starting at byte ${offset} is larger than max_record_bytes (1000 bytes). ` +
          'Does the file have line breaks? Raise max_record_bytes if records are meant to be that large.',
      );
      expect(error.offset).toBe(offset);
      expect(error.line).toBe(3);
    }
  });

  it('JSON Lines: stops holding a line without a break as soon as it passes the cap', async () => {
    let sent = 0;
    async function* endless() {
      yield Buffer.from('{"id":1}\n{"s":"');
      for (;;) {
        sent += 100;
        if (sent > 100 * cap) throw new Error('the decoder kept reading far past the cap');
        yield Buffer.from('x'.repeat(100));
      }
    }
    const error = await collect(decodeJsonl(endless(), { maxRecordBytes: cap, name: 'e.jsonl' })).catch(
      (e) => e,
    );
    expect(error.message).toMatch(
      /^e\.jsonl:2: the record starting at byte 9 is larger than max_record_bytes/,
    );
    expect(sent).toBeLessThanOrEqual(cap + 100);
  });

  it('CSV: a record over the cap, also one that fits in a chunk; offsets count bytes after a resume', async () => {
    const row = `2,"${'x'.repeat(cap)}"`;
    const text = `id,v\n1,a\n${row}\n`;
    for (const input of [[text], pieces(text, 7)]) {
      const error = await collect(decodeCsv(input, { maxRecordBytes: cap, name: 'c.csv' })).catch((e) => e);
      expect(error.message).toBe(
        'c.csv:3: the record starting at byte 9 is larger than max_record_bytes (1000 bytes). ' +
          'Is a quote left open? Raise max_record_bytes if records are meant to be that large.',
      );
      expect(error.offset).toBe(9);
    }
    const resumed = await collect(
      decodeCsv([`${row}\n`], { columns: ['id', 'v'], startOffset: 500, startLine: 41, maxRecordBytes: cap }),
    ).catch((e) => e);
    expect(resumed.message).toMatch(/^input:42: the record starting at byte 500 is larger/);
    const fits = await records(decodeCsv([text], { maxRecordBytes: cap + 4 }));
    expect(fits).toHaveLength(2);
  });

  it('JSON arrays: an element over the cap', async () => {
    const text = `[{"id":1},\n {"s":"${'x'.repeat(cap)}"}]`;
    for (const input of [[text], pieces(text, 10)]) {
      const error = await collect(decodeJsonArray(input, { maxRecordBytes: cap, name: 'a.json' })).catch(
        (e) => e,
      );
      expect(error.message).toBe(
        'a.json:2: the record starting at byte 12 is larger than max_record_bytes (1000 bytes). ' +
          'It is array element 2. Raise max_record_bytes if records are meant to be that large.',
      );
    }
  });

  it('defaults to 64 MiB', async () => {
    const error = await collect(decodeJsonl([Buffer.alloc(64 * 1024 * 1024 + 2, 0x20)])).catch((e) => e);
    expect(error.message).toMatch(/larger than max_record_bytes \(67108864 bytes \(64 MiB\)\)/);
  });
});

describe('completeCsvRecordsLength', () => {
  it('finds the end of the last complete record, not a line break inside quotes', async () => {
    const complete = 'id,v\r\n1,"a\nb"\n2,"x"",\ny"\n';
    for (const torn of ['', '3,"half\nof', '3,plain', '3,"q""', '"']) {
      const text = complete + torn;
      for (const input of [[text], pieces(text, 1), pieces(text, 3)]) {
        expect(await completeCsvRecordsLength(input)).toBe(Buffer.byteLength(complete));
      }
    }
    expect(await completeCsvRecordsLength(['a;"b\n";c\nd;"e'], { delimiter: ';' })).toBe(9);
    expect(await completeCsvRecordsLength(['no line break'])).toBe(0);
    expect(await completeCsvRecordsLength([Buffer.from('ä,"ö\n"\nü')])).toBe(Buffer.byteLength('ä,"ö\n"\n'));
  });
});
