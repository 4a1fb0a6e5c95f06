import { describe, expect, it } from 'vitest';
import { createCsvEncoder, decodeCsv, EncodeError } from '../src/index.js';
import { records } from './helpers.js';

describe('CSV encoding', () => {
  it('takes the header from the first batch, keys in first-seen order', () => {
    const encoder = createCsvEncoder();
    const text = encoder.encode([
      { a: 1, b: 2 },
      { c: 3, a: 4 },
    ]);
    expect(text).toBe('a,b,c\n1,2,\n4,,3\n');
    expect(encoder.columns).toEqual(['a', 'b', 'c']);
    expect(encoder.encode([{ b: 'x' }])).toBe(',x,\n');
  });

  it('quotes only when needed; null is an empty cell, "" an empty string; nested values are JSON', () => {
    const encoder = createCsvEncoder();
    const text = encoder.encode([
      {
        s: 'plain',
        comma: 'a,b',
        quote: 'say "hi"',
        nl: 'x\ny',
        cr: 'x\ry',
        n: null,
        e: '',
        obj: { k: [1, 'v'] },
      },
      { s: 1.5, comma: true, quote: false, nl: -3, cr: 0, n: null, e: 'e', obj: [] },
    ]);
    expect(text).toBe(
      's,comma,quote,nl,cr,n,e,obj\n' +
        'plain,"a,b","say ""hi""","x\ny","x\ry",,"","{""k"":[1,""v""]}"\n' +
        '1.5,true,false,-3,0,,e,[]\n',
    );
  });

  it('reads back what it wrote (strings and nulls survive; typed decoding restores numbers)', async () => {
    const rows = [
      { id: 1, name: 'Ada, Countess', note: 'multi\nline "quoted"', empty: '', missing: null, ok: true },
      { id: 2, name: 'Grace', note: 'ü 😀', empty: 'x', missing: null, ok: false },
    ];
    const text = createCsvEncoder().encode(rows);
    expect(await records(decodeCsv([text], { typed: true }))).toEqual(rows);
  });

  it('fails on a field that is not a column, naming it, unless on_unknown_field is ignore', () => {
    const strict = createCsvEncoder({ name: 'out.csv' });
    strict.encode([{ a: 1 }]);
    let error: unknown;
    try {
      strict.encode([{ a: 2, b: 3 }]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EncodeError);
    expect((error as EncodeError).code).toBe('SINK_WRITE_FAILED');
    expect((error as Error).message).toMatch(/^out\.csv: field "b" is not one of the CSV columns \(a\)/);
    const lax = createCsvEncoder({ onUnknownField: 'ignore' });
    expect(lax.encode([{ a: 1 }]) + lax.encode([{ a: 2, b: 3 }])).toBe('a\n1\n2\n');
  });

  it('uses given columns, another delimiter, CRLF, and no header when asked', () => {
    const encoder = createCsvEncoder({
      columns: ['b', 'a'],
      delimiter: ';',
      header: false,
      lineEnding: '\r\n',
    });
    expect(encoder.encode([{ a: 'x;y', b: 2 }])).toBe('2;"x;y"\r\n');
  });

  it('writes TSV with escapes instead of quotes', () => {
    const encoder = createCsvEncoder({ style: 'tsv' });
    expect(encoder.encode([{ a: 'tab\there', b: 'nl\nand\\', c: '"q"', d: null }])).toBe(
      'a\tb\tc\td\ntab\\there\tnl\\nand\\\\\t"q"\t\n',
    );
  });
});
