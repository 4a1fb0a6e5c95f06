/** The source's pure parts, without a database: value parsing, SQL building, bookmarks, config. */

import {
  parseArrayLiteral,
  parseBytea,
  parseFloatValue,
  parserFor,
  parseTimestamp,
  parseTimestamptz,
} from '@faucet/common-postgres';
import { isFaucetError } from '@faucet/core';
import { postgresSourceConfigSchema } from '@faucet/source-postgres';
import { describe, expect, it } from 'vitest';
import { startFromBookmark } from '../src/bookmark.js';
import { buildReadQuery, fromItem, stripTrailingSemicolons } from '../src/query.js';

describe('value parsing', () => {
  it('turns timestamps into ISO-8601, keeping microseconds', () => {
    expect(parseTimestamptz('2024-01-01 10:00:00+00')).toBe('2024-01-01T10:00:00Z');
    expect(parseTimestamptz('2024-01-01 10:00:00.123456+00')).toBe('2024-01-01T10:00:00.123456Z');
    expect(parseTimestamp('2024-01-01 10:00:00.5')).toBe('2024-01-01T10:00:00.5');
    expect(parseTimestamptz('infinity')).toBe('infinity');
    expect(parseTimestamptz('0044-03-15 00:00:00+00 BC')).toBe('0044-03-15 00:00:00+00 BC');
  });

  it('keeps NaN and Infinity as strings, other floats as numbers', () => {
    expect(parseFloatValue('1.5')).toBe(1.5);
    expect(parseFloatValue('NaN')).toBe('NaN');
    expect(parseFloatValue('-Infinity')).toBe('-Infinity');
  });

  it('encodes bytea as base64', () => {
    expect(parseBytea('\\x00ff10')).toBe(Buffer.from([0, 255, 16]).toString('base64'));
  });

  it('parses array literals with quotes, escapes, NULLs, nesting and explicit bounds', () => {
    const text = parserFor(25, new Map());
    expect(parseArrayLiteral('{"a b","c\\"d",NULL,"NULL","e,f",g}', ',', text)).toEqual([
      'a b',
      'c"d',
      null,
      'NULL',
      'e,f',
      'g',
    ]);
    expect(parseArrayLiteral('{{1,2},{3,4}}', ',', Number)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(parseArrayLiteral('[0:1]={7,8}', ',', Number)).toEqual([7, 8]);
    expect(parseArrayLiteral('{}', ',', Number)).toEqual([]);
    expect(parseArrayLiteral('{"a\\\\b"}', ',', text)).toEqual(['a\\b']);
  });

  it('parses arrays element by element with the element type', () => {
    const arrays = new Map([
      [1016, { element: 20, delimiter: ',' }],
      [3807, { element: 3802, delimiter: ',' }],
      [1185, { element: 1184, delimiter: ',' }],
    ]);
    expect(parserFor(1016, arrays)('{1,9007199254740993}')).toEqual(['1', '9007199254740993']);
    expect(parserFor(3807, arrays)('{"{\\"a\\": 1}"}')).toEqual([{ a: 1 }]);
    expect(parserFor(1185, arrays)('{"2024-01-01 00:00:00+00"}')).toEqual(['2024-01-01T00:00:00Z']);
  });
});

describe('SQL building', () => {
  it('quotes identifiers and passes values as parameters', () => {
    const query = buildReadQuery({
      from: fromItem({ table: 'sales."Order""s"' }),
      params: [],
      order: ['updated at', 'id'],
      cursor: 'updated at',
      start: { type: 'after-key', values: ['2024-01-01T00:00:00Z', '7'] },
    });
    expect(query.text).toBe(
      'SELECT * FROM "sales"."Order""s" AS _faucet_q WHERE _faucet_q."updated at" IS NOT NULL AND ' +
        '(_faucet_q."updated at", _faucet_q."id") > ($1, $2) ORDER BY _faucet_q."updated at", _faucet_q."id"',
    );
    expect(query.values).toEqual(['2024-01-01T00:00:00Z', '7']);
  });

  it('numbers keyset parameters after the query parameters, and casts a lookback', () => {
    const query = buildReadQuery({
      from: fromItem({ query: 'SELECT * FROM t WHERE a = $1;' }),
      params: [5],
      order: ['ts'],
      cursor: 'ts',
      start: {
        type: 'lookback',
        value: '2024-01-01T00:00:00Z',
        cursorType: 'timestamp with time zone',
        lookback: '1 hour',
        lookbackType: 'interval',
      },
    });
    expect(query.text).toBe(
      'SELECT * FROM (\nSELECT * FROM t WHERE a = $1\n) AS _faucet_q WHERE _faucet_q."ts" IS NOT NULL AND ' +
        '_faucet_q."ts" > ($2::timestamp with time zone - $3::interval) ORDER BY _faucet_q."ts"',
    );
    expect(query.values).toEqual([5, '2024-01-01T00:00:00Z', '1 hour']);
  });

  it('strips trailing semicolons only outside strings and comments', () => {
    expect(stripTrailingSemicolons('SELECT 1;;  ')).toBe('SELECT 1    ');
    expect(stripTrailingSemicolons("SELECT ';' -- x;")).toBe("SELECT ';' -- x;");
    expect(stripTrailingSemicolons('SELECT 1; -- done')).toBe('SELECT 1  -- done');
    expect(stripTrailingSemicolons('SELECT $$;$$ /* ; */')).toBe('SELECT $$;$$ /* ; */');
    expect(stripTrailingSemicolons("SELECT E'\\';';")).toBe("SELECT E'\\';' ");
    expect(stripTrailingSemicolons('SELECT $1;')).toBe('SELECT $1 ');
  });
});

describe('bookmarks', () => {
  const keyset = { kind: 'keyset' as const, columns: ['ts', 'id'], table: 'public.t' };

  it('resumes strictly after the stored tuple', () => {
    const stored = {
      kind: 'keyset',
      table: 'public.t',
      columns: ['ts', 'id'],
      after: ['2024-01-01T00:00:00Z', 3],
    };
    expect(startFromBookmark(stored, keyset)).toEqual({
      type: 'after-key',
      values: ['2024-01-01T00:00:00Z', 3],
    });
  });

  it('reads a bare value written by hand as a cursor value', () => {
    expect(startFromBookmark('2024-01-01', keyset)).toEqual({ type: 'after-cursor', value: '2024-01-01' });
  });

  it('starts a FullTable pass over after a completed one', () => {
    const full = { kind: 'full_table' as const, columns: ['id'] };
    expect(startFromBookmark({ kind: 'full_table', columns: ['id'], completed: true }, full)).toEqual({
      type: 'beginning',
    });
  });

  it('refuses a bookmark of another table, key or kind, saying how to start over', () => {
    const other = { kind: 'keyset', table: 'public.other', columns: ['ts'], after: ['x'] };
    const error = (() => {
      try {
        startFromBookmark(other, keyset);
      } catch (e) {
        return e;
      }
    })();
    expect(isFaucetError(error) && error.code).toBe('CONFIG_INVALID');
    expect(String((error as Error).message)).toMatch(/belongs to table "public.other".*key columns.*state/s);
    expect(() =>
      startFromBookmark({ kind: 'full_table', table: 'public.t', columns: ['ts', 'id'] }, keyset),
    ).toThrow(/full_table position/);
  });
});

describe('config', () => {
  const url = 'postgres://u:p@localhost/db';

  it('needs exactly one of query and table', () => {
    expect(postgresSourceConfigSchema.safeParse({ connection_url: url }).success).toBe(false);
    expect(
      postgresSourceConfigSchema.safeParse({ connection_url: url, table: 't', query: 'x' }).success,
    ).toBe(false);
  });

  it('refuses a lookback without Incremental, a dotted cursor field and a non-postgres URL', () => {
    const issues = (input: unknown) =>
      postgresSourceConfigSchema.safeParse(input).error?.issues.map((i) => i.path.join('.'));
    expect(issues({ connection_url: url, table: 't', lookback: 5 })).toEqual(['lookback']);
    expect(
      issues({
        connection_url: url,
        table: 't',
        replication_method: { type: 'Incremental', cursor_field: 'meta.ts' },
      }),
    ).toEqual(['replication_method.cursor_field']);
    expect(issues({ connection_url: 'mysql://x/y', table: 't' })).toEqual(['connection_url']);
  });

  it('fills the defaults', () => {
    expect(postgresSourceConfigSchema.parse({ connection_url: url, table: 't' })).toMatchObject({
      batch_size: 1000,
      params: [],
      primary_keys: [],
      replication_method: { type: 'FullTable' },
    });
  });
});
