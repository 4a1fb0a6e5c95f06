/** COPY's text format decoded without a database: rows across chunk boundaries, NULLs, escapes, literals. */
import { parserFor } from '@faucet/common-postgres';
import { describe, expect, it } from 'vitest';
import { CopyTextDecoder, unescapeCopyField } from '../src/copy-text.js';
import { buildReadQuery, sqlLiteral } from '../src/query.js';

const text = (s: string) => s;
const int4 = parserFor(23, new Map());
const jsonb = parserFor(3802, new Map());

/** Every row of `output` fed to a decoder in pieces of `size` bytes. */
function decodeInPieces(output: Buffer, size: number, parsers = [int4, text, jsonb]) {
  const decoder = new CopyTextDecoder(parsers);
  const rows = [];
  for (let at = 0; at < output.length; at += size) rows.push(...decoder.push(output.subarray(at, at + size)));
  decoder.end();
  return rows;
}

describe('COPY text decoding', () => {
  const output = Buffer.from(
    [
      '1\tplain\t{"a": 1}',
      '2\t\\N\t\\N',
      '3\ttab\\there, line\\nbreak, back\\\\slash\t{"s": "q\\\\"x"}',
      '4\tgrüße ✓ 😀\t[]',
      '5\t\t"x"',
    ]
      .map((line) => `${line}\n`)
      .join(''),
  );
  const expected = [
    [1, 'plain', { a: 1 }],
    [2, null, null],
    [3, 'tab\there, line\nbreak, back\\slash', { s: 'q"x' }],
    [4, 'grüße ✓ 😀', []],
    [5, '', 'x'],
  ];

  it('decodes rows whatever the chunk boundaries (inside a row, a field, an escape or a UTF-8 character)', () => {
    for (const size of [1, 2, 3, 5, 7, 16, output.length]) {
      expect(decodeInPieces(output, size), `pieces of ${size} bytes`).toEqual(expected);
    }
  });

  it('fails when the output ends inside a row', () => {
    const decoder = new CopyTextDecoder([int4]);
    expect(decoder.push(Buffer.from('1\n2'))).toEqual([[1]]);
    expect(() => decoder.end()).toThrow(/ended inside a row \(1 bytes without a line end\)/);
  });

  it('fails on a row whose field count is not the column count', () => {
    const decoder = new CopyTextDecoder([int4, text]);
    expect(() => decoder.push(Buffer.from('1\ta\tb\n'))).toThrow(
      /row has 3 fields where the query has 2 columns/,
    );
  });

  it('reads a query with no columns as empty rows', () => {
    expect(new CopyTextDecoder([]).push(Buffer.from('\n\n'))).toEqual([[], []]);
  });

  it('undoes every escape of the format', () => {
    expect(unescapeCopyField('a\\bb\\fc\\nd\\re\\tf\\vg')).toBe('a\bb\fc\nd\re\tf\vg');
    expect(unescapeCopyField('\\101\\7x\\x41\\x4')).toBe('A\u0007xA\u0004');
    expect(unescapeCopyField('\\\\N and \\. and \\q')).toBe('\\N and . and q');
    expect(unescapeCopyField('ends with \\')).toBe('ends with \\');
  });
});

describe('values inlined for COPY', () => {
  it('quotes each value as pg would send it as a text parameter', () => {
    expect(sqlLiteral(null)).toBe('NULL');
    expect(sqlLiteral(42)).toBe("'42'");
    expect(sqlLiteral(true)).toBe("'true'");
    expect(sqlLiteral("it's")).toBe("'it''s'");
    expect(sqlLiteral('back\\slash')).toBe(" E'back\\\\slash'");
  });

  it('writes the keyset start into the SQL and binds nothing', () => {
    const query = buildReadQuery({
      from: '"public"."t"',
      params: [],
      order: ['updated_at', 'id'],
      cursor: 'updated_at',
      start: { type: 'after-key', values: ['2024-01-01T00:00:00Z', "7'; DROP TABLE t; --"] },
      inline: true,
    });
    expect(query.values).toEqual([]);
    expect(query.text).toBe(
      'SELECT * FROM "public"."t" AS _faucet_q WHERE _faucet_q."updated_at" IS NOT NULL AND ' +
        `(_faucet_q."updated_at", _faucet_q."id") > ('2024-01-01T00:00:00Z', '7''; DROP TABLE t; --') ` +
        'ORDER BY _faucet_q."updated_at", _faucet_q."id"',
    );
  });

  it('refuses to inline a query that has bind parameters', () => {
    expect(() =>
      buildReadQuery({
        from: '(SELECT $1)',
        params: [1],
        order: [],
        start: { type: 'beginning' },
        inline: true,
      }),
    ).toThrow(/cannot be inlined/);
  });
});
