/**
 * The pure parts: config rules, schema inference, value conversion (exact numbers, row errors with
 * their field), request cutting by bytes, commit-token labels and job ids, the MERGE statement.
 */
import { describe, expect, it } from 'vitest';
import { bigquerySinkConfigSchema } from '../src/config.js';
import { cutRequests, rowText } from '../src/insert-all.js';
import { carriedColumns, mergeSql } from '../src/merge.js';
import { inferFields, toColumns } from '../src/schema.js';
import { pageJobId, scopeLabel, tokenFromLabels, tokenLabels } from '../src/tokens.js';
import { convertRecord, RowValueError } from '../src/values.js';

const base = { project_id: 'p', dataset_id: 'd', table_id: 't' };
const issues = (input: unknown): string[] => {
  const result = bigquerySinkConfigSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('config', () => {
  it('applies the defaults', () => {
    const config = bigquerySinkConfigSchema.parse(base);
    expect(config).toMatchObject({
      auth: { type: 'application_default' },
      write_method: 'insert_all',
      write_mode: 'append',
      batch_size: 500,
      max_request_bytes: 9_000_000,
      schema_evolution: 'fail',
      nested_as: 'json',
      create_table: false,
    });
    expect(config.retry.max_attempts).toBe(5);
  });

  it('refuses what cannot run, naming the key', () => {
    expect(issues({ ...base, write_mode: 'upsert' })).toEqual([
      'key: write_mode upsert needs the key columns',
    ]);
    expect(issues({ ...base, auth: { type: 'none' } })[0]).toMatch(/^auth: auth type none is for emulators/);
    expect(issues({ ...base, schema: [{ name: 'a', type: 'STRING' }] })[0]).toMatch(
      /^schema: .*create_table/,
    );
    expect(issues({ ...base, delete_marker: { field: 'gone' } })[0]).toMatch(/^delete_marker:/);
    expect(issues({ ...base, max_request_bytes: 20_000_000 })[0]).toMatch(/^max_request_bytes:/);
    expect(issues({ ...base, batch_size: 50_001 })[0]).toMatch(/^batch_size:/);
    expect(issues({ ...base, schema: [{ name: 'r', type: 'RECORD' }], create_table: true })[0]).toMatch(
      /^schema\.0:/,
    );
  });
});

describe('schema inference', () => {
  const options = { nestedAs: 'json' as const, numericStrings: true };
  const typesOf = (records: Record<string, unknown>[], opts = options) =>
    Object.fromEntries(
      inferFields(records, opts).map((f) => [f.name, f.mode === 'REPEATED' ? `${f.type}[]` : f.type]),
    );

  it('maps JSON values to BigQuery types, numbers exactly', () => {
    expect(
      typesOf([
        {
          i: 1,
          f: 1.5,
          b: true,
          s: 'x',
          int8: '9223372036854775807',
          numeric: '12345678901234567890123456789.123456789',
          bignum: '12345678901234567890123456789012345678.5',
          huge: '1'.repeat(80),
          zip: '01234',
          ts: '2024-01-01T00:00:00.123Z',
          day: '2024-01-01',
          nil: null,
          obj: { a: 1 },
          arr: [1, 2],
        },
      ]),
    ).toEqual({
      i: 'INT64',
      f: 'FLOAT64',
      b: 'BOOL',
      s: 'STRING',
      int8: 'INT64',
      numeric: 'NUMERIC',
      bignum: 'BIGNUMERIC',
      huge: 'STRING',
      zip: 'STRING',
      ts: 'TIMESTAMP',
      day: 'DATE',
      nil: 'STRING',
      obj: 'JSON',
      arr: 'JSON',
    });
  });

  it('widens over every value of the page', () => {
    expect(
      typesOf([
        { a: 1, b: '5', c: 1, d: true, e: '2024-01-01' },
        { a: 2.5, b: '99999999999999999999', c: 'x', d: 1, e: '2024-01-01T00:00:00Z' },
      ]),
    ).toEqual({ a: 'FLOAT64', b: 'NUMERIC', c: 'STRING', d: 'STRING', e: 'STRING' });
    expect(typesOf([{ n: '42' }], { ...options, numericStrings: false })).toEqual({ n: 'STRING' });
  });

  it('makes RECORD and REPEATED columns when nested_as is record', () => {
    const fields = inferFields(
      [
        { addr: { city: 'Oslo', zip: 5 }, tags: ['a'], items: [{ sku: 'x' }], mixed: [1, 'a'], empty: {} },
        { addr: { city: 'Bergen', street: 'Main' }, tags: [], items: [{ sku: 'y', n: 2 }] },
      ],
      { nestedAs: 'record', numericStrings: true },
    );
    expect(fields).toEqual([
      {
        name: 'addr',
        type: 'RECORD',
        mode: 'NULLABLE',
        fields: [
          { name: 'city', type: 'STRING', mode: 'NULLABLE' },
          { name: 'zip', type: 'INT64', mode: 'NULLABLE' },
          { name: 'street', type: 'STRING', mode: 'NULLABLE' },
        ],
      },
      { name: 'tags', type: 'STRING', mode: 'REPEATED' },
      {
        name: 'items',
        type: 'RECORD',
        mode: 'REPEATED',
        fields: [
          { name: 'sku', type: 'STRING', mode: 'NULLABLE' },
          { name: 'n', type: 'INT64', mode: 'NULLABLE' },
        ],
      },
      { name: 'mixed', type: 'STRING', mode: 'REPEATED' },
      { name: 'empty', type: 'JSON', mode: 'NULLABLE' },
    ]);
  });
});

describe('value conversion', () => {
  const columns = toColumns([
    { name: 'id', type: 'INTEGER', mode: 'REQUIRED' },
    { name: 'n', type: 'NUMERIC' },
    { name: 'big', type: 'BIGNUMERIC' },
    { name: 'f', type: 'FLOAT' },
    { name: 'ok', type: 'BOOLEAN' },
    { name: 's', type: 'STRING' },
    { name: 'j', type: 'JSON' },
    { name: 'tags', type: 'STRING', mode: 'REPEATED' },
    { name: 'addr', type: 'RECORD', fields: [{ name: 'zip', type: 'INT64' }] },
  ]);
  const rowError = (record: Record<string, unknown>): [string, string] => {
    try {
      convertRecord(record as never, columns, 'insert_all');
    } catch (error) {
      if (error instanceof RowValueError) return [error.location, error.message];
      throw error;
    }
    throw new Error('no row error');
  };

  it('keeps integer and decimal strings as they are (no precision lost)', () => {
    const record = {
      id: '9223372036854775807',
      n: '99999999999999999999999999999.999999999',
      big: '578960446186580977117854925043439539266.34992332820282019728792003956564819967',
      f: 0.1,
    };
    expect(convertRecord(record, columns, 'insert_all')).toEqual(record);
  });

  it('sends JSON columns as JSON text to insertAll and as values to a load', () => {
    expect(convertRecord({ id: 1, j: { a: [1] } }, columns, 'insert_all')).toEqual({ id: 1, j: '{"a":[1]}' });
    expect(convertRecord({ id: 1, j: { a: [1] } }, columns, 'load')).toEqual({ id: 1, j: { a: [1] } });
  });

  it('writes scalars and nested values into STRING columns as text', () => {
    expect(convertRecord({ id: 1, s: 5 }, columns, 'load')).toEqual({ id: 1, s: '5' });
    expect(convertRecord({ id: 1, s: { a: 1 } }, columns, 'load')).toEqual({ id: 1, s: '{"a":1}' });
  });

  it('names the field of a row that cannot fit', () => {
    expect(rowError({ id: 'abc' })).toEqual(['id', 'id: "abc" is not an integer (column is INT64)']);
    expect(rowError({ id: 1.5 })[0]).toBe('id');
    expect(rowError({ n: '1' })).toEqual(['id', 'id: missing REQUIRED field']);
    expect(rowError({ id: null })).toEqual(['id', 'id: a REQUIRED column cannot be null']);
    expect(rowError({ id: 1, extra: 1 })).toEqual(['extra', 'extra: no such field in the table']);
    expect(rowError({ id: 1, ok: 'yes' })[0]).toBe('ok');
    expect(rowError({ id: 1, tags: 'a' })[0]).toBe('tags');
    expect(rowError({ id: 1, tags: ['a', null] })[0]).toBe('tags[1]');
    expect(rowError({ id: 1, addr: { zip: 'x' } })[0]).toBe('addr.zip');
    expect(rowError({ id: 1, addr: { city: 'x' } })[0]).toBe('addr.city');
    expect(rowError({ id: 1, n: 'NaN' })[0]).toBe('n');
  });
});

describe('insertAll requests', () => {
  it('cuts requests at the byte limit and sets oversized rows apart', () => {
    const rows = Array.from({ length: 10 }, (_, i) => {
      const text = rowText(`id${i}`, JSON.stringify({ i, pad: 'x'.repeat(i === 7 ? 5000 : 100) }));
      return { index: i, insertId: `id${i}`, text };
    });
    const { requests, tooLarge } = cutRequests(rows, 1000);
    expect(tooLarge.map((r) => r.index)).toEqual([7]);
    expect(requests.flat().map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9]);
    for (const request of requests) {
      const body = `{"skipInvalidRows":true,"ignoreUnknownValues":false,"rows":[${request.map((r) => r.text).join(',')}]}`;
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(1000);
      expect(JSON.parse(body).rows).toHaveLength(request.length);
    }
  });
});

describe('commit tokens in job labels and job ids', () => {
  const ref = { projectId: 'p', datasetId: 'd', tableId: 't' };
  const token = 'faucet1:0000000000000012.0000000003#{"b":{"cursor":"2024-01-01T00:00:00Z","Ü":[1,2]}}';

  it('spells the token in valid labels and reads it back', () => {
    const labels = tokenLabels(ref, 'pipe::row-0', token);
    for (const [key, value] of Object.entries(labels)) {
      expect(key).toMatch(/^[a-z][a-z0-9_-]{0,62}$/);
      expect(value).toMatch(/^[a-z0-9_-]{0,63}$/);
    }
    expect(Object.keys(labels).length).toBeLessThanOrEqual(64);
    expect(labels.faucet_scope).toBe(scopeLabel(ref, 'pipe::row-0'));
    expect(tokenFromLabels(labels)).toBe(token);
  });

  it('leaves out a token too long for labels', () => {
    const labels = tokenLabels(ref, 's', `faucet1:1.0#{"b":"${'x'.repeat(5000)}"}`);
    expect(tokenFromLabels(labels)).toBeUndefined();
    expect(Object.keys(labels).length).toBeLessThanOrEqual(64);
  });

  it('derives the same job id for the same page and another for anything else', () => {
    const id = pageJobId('faucet', ref, 's', token, 'abc');
    expect(id).toMatch(/^faucet_[0-9a-f]{48}$/);
    expect(pageJobId('faucet', ref, 's', token, 'abc')).toBe(id);
    expect(pageJobId('faucet', ref, 's', token, 'abd')).not.toBe(id);
    expect(pageJobId('faucet', ref, 's2', token, 'abc')).not.toBe(id);
    expect(pageJobId('faucet', { ...ref, tableId: 'u' }, 's', token, 'abc')).not.toBe(id);
    expect(pageJobId('faucet', ref, 's', token, 'abc', 2)).toBe(`${id}_r2`);
  });
});

describe('MERGE', () => {
  it('deletes, updates the carried columns and inserts', () => {
    const records = [
      { id: 1, name: 'a', note: 'x' },
      { id: 2, name: 'b' },
    ];
    const { columns, partial } = carriedColumns(records, ['id']);
    expect(columns).toEqual(['name', 'note']);
    expect([...partial]).toEqual(['note']);
    const target = { projectId: 'p', datasetId: 'd', tableId: 't' };
    const sql = mergeSql({
      target,
      staging: { ...target, tableId: 's' },
      key: ['id'],
      columns,
      partial,
      upserts: true,
    });
    expect(sql).toBe(
      [
        'MERGE `p.d.t` AS T',
        'USING `p.d.s` AS S',
        'ON T.`id` = S.`id`',
        'WHEN MATCHED AND S._faucet_delete THEN DELETE',
        "WHEN MATCHED AND NOT S._faucet_delete THEN UPDATE SET `name` = S.`name`, `note` = IF(STRPOS(S._faucet_fields, ',note,') > 0, S.`note`, T.`note`)",
        'WHEN NOT MATCHED AND NOT S._faucet_delete THEN INSERT (`id`, `name`, `note`) VALUES (S.`id`, S.`name`, S.`note`)',
      ].join('\n'),
    );
    expect(
      mergeSql({ target, staging: target, key: ['a', 'b'], columns: [], partial: new Set(), upserts: false }),
    ).toBe(
      'MERGE `p.d.t` AS T\nUSING `p.d.t` AS S\nON T.`a` = S.`a` AND T.`b` = S.`b`\nWHEN MATCHED AND S._faucet_delete THEN DELETE',
    );
  });
});
