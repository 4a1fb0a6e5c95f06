/** The sink's pure parts, without a database: value conversion, COPY escaping, SQL text, config. */
import { postgresSinkConfigSchema } from '@faucet/sink-postgres';
import { describe, expect, it } from 'vitest';
import { copySql, deleteSql, insertSql } from '../src/statements.js';
import { createTableSql } from '../src/table.js';
import {
  arrayLiteral,
  type Column,
  converterFor,
  copyText,
  inferColumnType,
  ValueError,
} from '../src/values.js';

const column = (over: Partial<Column>): Column => ({
  name: 'c',
  typeName: 'text',
  baseOid: 25,
  category: 'S',
  elementOid: 0,
  elementCategory: '',
  ...over,
});

describe('value conversion', () => {
  it('passes strings through and writes other scalars as Postgres reads them', () => {
    const text = converterFor(column({}));
    expect(text('9007199254740993')).toBe('9007199254740993');
    expect(text(1.5)).toBe('1.5');
    expect(text(true)).toBe('true');
    expect(text(null)).toBeNull();
    expect(text({ a: 1 })).toBe('{"a":1}');
  });

  it('writes any non-null value as JSON for json and jsonb columns', () => {
    const jsonb = converterFor(column({ baseOid: 3802, typeName: 'jsonb', category: 'U' }));
    expect(jsonb('s')).toBe('"s"');
    expect(jsonb([1, { b: null }])).toBe('[1,{"b":null}]');
    expect(jsonb(null)).toBeNull();
  });

  it('decodes base64 for bytea and refuses anything else', () => {
    const bytea = converterFor(column({ baseOid: 17, typeName: 'bytea', category: 'U' }));
    expect(bytea(Buffer.from([1, 2, 255]).toString('base64'))).toBe('\\x0102ff');
    expect(bytea('\\x00')).toBe('\\x00');
    expect(() => bytea('***')).toThrow(ValueError);
    expect(() => bytea(5)).toThrow(ValueError);
  });

  it('writes array literals, quoting every element and nesting dimensions', () => {
    const ints = converterFor(
      column({ category: 'A', typeName: 'integer[]', elementOid: 23, elementCategory: 'N' }),
    );
    expect(ints([1, null, 3])).toBe('{"1",NULL,"3"}');
    expect(
      ints([
        [1, 2],
        [3, 4],
      ]),
    ).toBe('{{"1","2"},{"3","4"}}');
    expect(ints('{1,2}')).toBe('{1,2}');
    expect(() => ints({ a: 1 })).toThrow(/expected an array/);
    expect(arrayLiteral(['a "b"', 'c\\d', '', 'NULL'], (v) => String(v), false)).toBe(
      '{"a \\"b\\"","c\\\\d","","NULL"}',
    );
    const jsonbs = converterFor(
      column({ category: 'A', typeName: 'jsonb[]', elementOid: 3802, elementCategory: 'U' }),
    );
    expect(jsonbs([{ k: 1 }, [2]])).toBe('{"{\\"k\\":1}","[2]"}');
  });

  it('escapes COPY text format', () => {
    expect(copyText(null)).toBe('\\N');
    expect(copyText('\\N')).toBe('\\\\N');
    expect(copyText('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyText('')).toBe('');
  });

  it('types create_table columns from the first batch', () => {
    expect(inferColumnType([1, 2, null])).toBe('bigint');
    expect(inferColumnType([1, 2.5])).toBe('double precision');
    expect(inferColumnType([true, null])).toBe('boolean');
    expect(inferColumnType([{ a: 1 }, 'x'])).toBe('jsonb');
    expect(inferColumnType([[1], null])).toBe('jsonb');
    expect(inferColumnType(['x', 1])).toBe('text');
    expect(inferColumnType([null])).toBe('text');
  });
});

describe('SQL text', () => {
  it('quotes identifiers and numbers parameters row by row', () => {
    expect(insertSql('"s"."t"', ['a', 'b"c'], 2)).toBe(
      'INSERT INTO "s"."t" ("a", "b""c") VALUES ($1, $2), ($3, $4)',
    );
    expect(insertSql('"t"', ['id', 'v'], 1, ['id'])).toBe(
      'INSERT INTO "t" ("id", "v") VALUES ($1, $2) ON CONFLICT ("id") DO UPDATE SET "v" = EXCLUDED."v"',
    );
    expect(insertSql('"t"', ['id'], 1, ['id'])).toBe(
      'INSERT INTO "t" ("id") VALUES ($1) ON CONFLICT ("id") DO NOTHING',
    );
    expect(
      deleteSql(
        '"t"',
        [
          { name: 'a', typeName: 'bigint' },
          { name: 'b', typeName: 'text' },
        ],
        2,
      ),
    ).toBe('DELETE FROM "t" WHERE ("a", "b") IN (($1::bigint, $2::text), ($3::bigint, $4::text))');
    expect(deleteSql('"t"', [{ name: 'id', typeName: 'integer' }], 2)).toBe(
      'DELETE FROM "t" WHERE "id" IN (($1::integer), ($2::integer))',
    );
    expect(copySql('"t"', ['a', 'b'])).toBe('COPY "t" ("a", "b") FROM STDIN WITH (FORMAT text)');
  });

  it('builds create_table DDL with the key as primary key', () => {
    expect(
      createTableSql({ qualified: '"s"."t"', records: [{ id: 1, v: 'x' }], key: ['id'], primaryKey: true }),
    ).toBe('CREATE TABLE IF NOT EXISTS "s"."t" ("id" bigint NOT NULL, "v" text, PRIMARY KEY ("id"))');
    expect(
      createTableSql({
        qualified: '"t"',
        records: [{ id: 1, v: 'x' }],
        key: [],
        primaryKey: false,
        jsonbColumn: 'data',
      }),
    ).toBe('CREATE TABLE IF NOT EXISTS "t" ("data" jsonb NOT NULL)');
  });
});

describe('config', () => {
  const url = 'postgres://u:p@localhost/db';

  it('fills the defaults', () => {
    expect(postgresSinkConfigSchema.parse({ connection_url: url, table: 't' })).toEqual({
      connection_url: url,
      table: 't',
      write_method: 'insert',
      write_mode: 'append',
      key: [],
      column_mapping: 'auto',
      create_table: false,
      batch_size: 1000,
      max_connections: 5,
      connect_timeout_ms: 10_000,
    });
  });

  it('lists every problem with its path', () => {
    const result = postgresSinkConfigSchema.safeParse({
      connection_url: 'http://x',
      table: 't',
      write_mode: 'upsert',
      write_method: 'copy',
      key: ['a', 'a'],
      extra: 1,
    });
    expect(result.error?.issues.map((i) => i.path.join('.')).sort()).toEqual([
      '',
      'connection_url',
      'key',
      'write_method',
    ]);
  });
});
