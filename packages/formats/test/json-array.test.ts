import { describe, expect, it } from 'vitest';
import { DecodeError, decodeJsonArray } from '../src/index.js';
import { collect, neverEnding, pieces, randomPieces, records, within } from './helpers.js';

const TEXT = `\uFEFF [
  {"id": 1, "s": "brackets ] } [ { and , commas"},
  {"id": 2, "q": "escaped \\" quote and \\\\", "arr": [{"x": [1, {"y": 2}]}]},
  {"id": 3, "u": "\\u00e9 é 😀", "n": null, "b": true}
]
`;
const RECORDS = [
  { id: 1, s: 'brackets ] } [ { and , commas' },
  { id: 2, q: 'escaped " quote and \\', arr: [{ x: [1, { y: 2 }] }] },
  { id: 3, u: 'é é 😀', n: null, b: true },
];

describe('JSON array decoding', () => {
  it('reads a top-level array of objects element by element, however the input is cut', async () => {
    for (const input of [[TEXT], pieces(TEXT, 1), pieces(TEXT, 4), randomPieces(TEXT, 11)]) {
      expect(await records(decodeJsonArray(input))).toEqual(RECORDS);
    }
  });

  it('reads an empty array and an empty input as no records', async () => {
    expect(await records(decodeJsonArray([' [ ] '])).then((r) => r.length)).toBe(0);
    expect(await records(decodeJsonArray([''])).then((r) => r.length)).toBe(0);
  });

  it('resumes after any element from the reported offset', async () => {
    const bytes = Buffer.from(TEXT);
    const batches = await collect(decodeJsonArray([bytes], { batchSize: 1 }));
    expect(batches.at(-1)?.offset).toBe(bytes.length);
    for (const [i, batch] of batches.entries()) {
      const rest = await records(
        decodeJsonArray(pieces(bytes.subarray(batch.offset), 2), { startOffset: batch.offset }),
      );
      expect(rest).toEqual(RECORDS.slice(i + 1));
    }
  });

  it('explains what is wrong with the array, naming the input and line', async () => {
    const cases: [string, RegExp][] = [
      ['{"a":1}', /^f\.json:1: expected a JSON array \("\["\) at the start/],
      ['[{"a":1},\n 2]', /^f\.json:2: array element 2 is not an object/],
      ['[{"a":1},]', /^f\.json:1: a "," before "\]" \(a trailing comma is not JSON\)/],
      ['[{"a":1}', /^f\.json: the input ends inside the array|^f\.json:1: the input ends inside the array/],
      ['[{"a":1}] x', /^f\.json:1: unexpected "x" after the closing "\]"/],
      ['[{"a":1} {"b":2}]', /^f\.json:1: expected "," or "\]" after array element 1/],
      ['[\n\n{"a":nope}]', /^f\.json:3: invalid JSON in array element 1/],
    ];
    for (const [text, message] of cases) {
      const error = await collect(decodeJsonArray([text], { name: 'f.json' })).catch((e) => e);
      expect(error, text).toBeInstanceOf(DecodeError);
      expect(error.message, text).toMatch(message);
    }
  });

  it('yields its first batch before the input ends (streaming)', async () => {
    const first = Buffer.from(`[${'{"id":1,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},'.repeat(25_000)}`);
    const iterator = decodeJsonArray(neverEnding(pieces(first, 64 * 1024)), { batchSize: 100 });
    const batch = await within(iterator.next(), 5000);
    expect(batch.value?.records).toHaveLength(100);
  });
});
