import { describe, expect, it } from 'vitest';
import { DecodeError, decodeJsonl, encodeJsonl, encodeJsonlText } from '../src/index.js';
import { collect, neverEnding, pieces, randomPieces, records, within } from './helpers.js';

const TEXT = '{"id":1,"name":"ä"}\r\n\n   \n{"id":2,"nested":{"a":[1,2]}}\n{"id":3,"s":"line\\nbreak 😀"}';
const RECORDS = [
  { id: 1, name: 'ä' },
  { id: 2, nested: { a: [1, 2] } },
  { id: 3, s: 'line\nbreak 😀' },
];

describe('JSON Lines decoding', () => {
  it('reads one object per line, skipping blank lines, LF or CRLF, however the input is cut', async () => {
    for (const input of [[TEXT], pieces(TEXT, 1), pieces(TEXT, 5), randomPieces(TEXT, 3)]) {
      expect(await records(decodeJsonl(input))).toEqual(RECORDS);
    }
  });

  it('reports the byte offset and line after each batch, and resumes from it exactly', async () => {
    const bytes = Buffer.from(`${TEXT}\n`);
    const batches = await collect(decodeJsonl([bytes], { batchSize: 1 }));
    expect(batches.map((b) => b.line)).toEqual([1, 4, 5]);
    expect(batches.at(-1)?.offset).toBe(bytes.length);
    for (const [i, batch] of batches.entries()) {
      const rest = await records(decodeJsonl([bytes.subarray(batch.offset)], { startOffset: batch.offset }));
      expect(rest).toEqual(RECORDS.slice(i + 1));
    }
  });

  it('names the file and line of a bad line, quoting only a short excerpt of it', async () => {
    const huge = `{"a":"${'x'.repeat(1_000_000)}`;
    const error = await collect(decodeJsonl([`{"ok":1}\n\n${huge}\n`], { name: 'logs/app.jsonl' })).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(DecodeError);
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toMatch(/^logs\/app\.jsonl:3: invalid JSON \(/);
    expect(error.message.length).toBeLessThan(500);
    expect(error.line).toBe(3);
  });

  it('refuses a line that is not an object', async () => {
    for (const [line, kind] of [
      ['[1,2]', 'an array'],
      ['42', 'a number'],
      ['null', 'null'],
      ['"s"', 'a string'],
    ]) {
      const error = await collect(decodeJsonl([`{"a":1}\n${line}\n`], { name: 'f.jsonl' })).catch((e) => e);
      expect(error.message).toBe(
        `f.jsonl:2: expected a JSON object on each line, found ${kind}` +
          ' (to dead-letter bad records and go on, set on_record_error: dlq with a dlq)',
      );
    }
  });

  it('keeps line numbers counting from startLine after a resume', async () => {
    const error = await collect(
      decodeJsonl(['{"a":1}\n{bad\n'], { startLine: 10, startOffset: 5, name: 'r' }),
    ).catch((e) => e);
    expect(error.message).toMatch(/^r:12: invalid JSON/);
  });

  it('yields its first batch before the input ends (streaming)', async () => {
    const first = Buffer.from('{"id":1,"pad":"xxxxxxxxxxxxxxxxxxxxxxxx"}\n'.repeat(30_000)); // > 1 MB
    const iterator = decodeJsonl(neverEnding(pieces(first, 64 * 1024)), { batchSize: 500 });
    const batch = await within(iterator.next(), 5000);
    expect(batch.value?.records).toHaveLength(500);
  });
});

describe('JSON Lines encoding', () => {
  it('writes compact JSON, one record per line, and reads back the same', async () => {
    const text = encodeJsonlText(RECORDS);
    expect(text.split('\n')).toHaveLength(RECORDS.length + 1);
    expect(text.endsWith('\n')).toBe(true);
    expect(await records(decodeJsonl([encodeJsonl(RECORDS)]))).toEqual(RECORDS);
    expect(encodeJsonlText([])).toBe('');
  });
});
