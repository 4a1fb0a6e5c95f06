/** Identifier parsing and quoting (moved here from the source and sink unit tests). */
import { ConfigError } from '@faucet/core';
import { describe, expect, it } from 'vitest';
import { parseQualifiedName, quoteIdent, quoteQualified } from '../src/index.js';

describe('qualified names', () => {
  it('parses table names exactly, with quotes only around dots', () => {
    expect(parseQualifiedName('orders')).toEqual(['orders']);
    expect(parseQualifiedName('Sales.Orders')).toEqual(['Sales', 'Orders']);
    expect(parseQualifiedName('"my.schema"."a""b"')).toEqual(['my.schema', 'a"b']);
    expect(() => parseQualifiedName('a.b.c')).toThrow(ConfigError);
    expect(() => parseQualifiedName('a.')).toThrow(/empty name/);
  });

  it('parses table names exactly', () => {
    expect(parseQualifiedName('Sales.Orders')).toEqual(['Sales', 'Orders']);
    expect(parseQualifiedName('"a.b"')).toEqual(['a.b']);
    expect(() => parseQualifiedName('a.b.c')).toThrow(/expected table or schema.table/);
  });

  it('names the config path and the text in its issues', () => {
    const error = (() => {
      try {
        parseQualifiedName('"open', 'sink.table');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      { path: 'sink.table', message: 'unterminated quoted name in "\\"open"' },
    ]);
    expect(() => parseQualifiedName('a"b')).toThrow(/a quote inside an unquoted name/);
    expect(() => parseQualifiedName('"a"b')).toThrow(/expected "." after a quoted name/);
  });

  it('quotes identifiers and qualified names', () => {
    expect(quoteIdent('Order"s')).toBe('"Order""s"');
    expect(quoteQualified(['my.schema', 'a"b'])).toBe('"my.schema"."a""b"');
    expect(quoteQualified(parseQualifiedName('sales."Order""s"'))).toBe('"sales"."Order""s"');
  });
});
