import { describe, expect, it } from 'vitest';
import { DecodeError, decodeCsv, decodeJsonl } from '../src/index.js';
import { collect, pieces, randomPieces } from './helpers.js';

const rejectedOf = (batches: Awaited<ReturnType<typeof collect>>) =>
  batches.flatMap((b) => (b.rejected ?? []).map(({ raw, line, offset }) => ({ raw, line, offset })));
const recordsOf = (batches: Awaited<ReturnType<typeof collect>>) => batches.flatMap((b) => b.records);

describe('skipInvalid: JSON Lines', () => {
  const TEXT = '{"id":1}\n{"id":2,oops}\n[1,2]\n{"id":ä3}\n{"id":4}\n';

  it('sets bad lines aside with their raw text, line and byte offset, and goes on', async () => {
    for (const input of [[TEXT], pieces(TEXT, 1), randomPieces(TEXT, 7)]) {
      const batches = await collect(decodeJsonl(input, { skipInvalid: true, name: 'in.jsonl' }));
      expect(recordsOf(batches)).toEqual([{ id: 1 }, { id: 4 }]);
      expect(rejectedOf(batches)).toEqual([
        { raw: '{"id":2,oops}', line: 2, offset: 9 },
        { raw: '[1,2]', line: 3, offset: 23 },
        { raw: '{"id":ä3}', line: 4, offset: 29 },
      ]);
      const errors = batches.flatMap((b) => b.rejected ?? []).map((r) => r.error);
      for (const error of errors) expect(error).toBeInstanceOf(DecodeError);
      expect(errors[0]?.message).toMatch(/^in\.jsonl:2: invalid JSON/);
      expect(errors[1]?.message).toMatch(/^in\.jsonl:3: /);
    }
  });

  it('the offset of each batch is past the lines it set aside, so a resume does not read them again', async () => {
    const batches = await collect(decodeJsonl([TEXT], { skipInvalid: true, batchSize: 1 }));
    const bytes = Buffer.from(TEXT);
    for (const batch of batches) {
      const after = await collect(
        decodeJsonl([bytes.subarray(batch.offset)], {
          skipInvalid: true,
          startOffset: batch.offset,
          startLine: batch.line,
        }),
      );
      const seen = batches.slice(batches.indexOf(batch) + 1);
      expect(rejectedOf(after)).toEqual(rejectedOf(seen));
      expect(recordsOf(after)).toEqual(recordsOf(seen));
    }
  });

  it('a file of nothing but bad lines comes in bounded batches', async () => {
    const bad = 'not json\n'.repeat(2500);
    const batches = await collect(decodeJsonl([bad], { skipInvalid: true, batchSize: 1000 }));
    expect(batches.map((b) => b.rejected?.length ?? 0)).toEqual([1000, 1000, 500]);
    expect(recordsOf(batches)).toEqual([]);
  });

  it('without it, the first bad line still fails the decode', async () => {
    await expect(collect(decodeJsonl([TEXT]))).rejects.toThrow(/:2: invalid JSON/);
  });
});

describe('skipInvalid: CSV', () => {
  const TEXT = 'id,name\n1,a\n2,b,extra\n3\n"4","d"\n';

  it('sets rows with the wrong field count aside with raw text, line and byte offset', async () => {
    for (const input of [[TEXT], pieces(TEXT, 1), randomPieces(TEXT, 3)]) {
      const batches = await collect(decodeCsv(input, { skipInvalid: true, name: 'in.csv' }));
      expect(recordsOf(batches)).toEqual([
        { id: '1', name: 'a' },
        { id: '4', name: 'd' },
      ]);
      expect(rejectedOf(batches)).toEqual([
        { raw: '2,b,extra', line: 3, offset: 12 },
        { raw: '3', line: 4, offset: 22 },
      ]);
      const [first] = batches.flatMap((b) => b.rejected ?? []);
      expect(first?.error).toBeInstanceOf(DecodeError);
      expect(first?.error.message).toMatch(/^in\.csv:3: /);
    }
  });

  it('an unclosed quote still fails: no row boundary after it can be trusted', async () => {
    await expect(collect(decodeCsv(['id,name\n1,"a\n2,b\n'], { skipInvalid: true }))).rejects.toThrow(
      DecodeError,
    );
  });

  it('with flexible, ragged rows are records, not rejects', async () => {
    const batches = await collect(decodeCsv([TEXT], { skipInvalid: true, flexible: true }));
    expect(rejectedOf(batches)).toEqual([]);
    expect(recordsOf(batches)).toHaveLength(4);
  });
});
