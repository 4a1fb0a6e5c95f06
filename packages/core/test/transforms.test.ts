import { describe, expect, it } from 'vitest';
import {
  builtinTransform,
  builtinTransforms,
  ConfigError,
  changeKeyCase,
  composeTransforms,
  configJsonSchema,
  createTransform,
  type FaucetRecord,
  isTransformDescriptor,
  type JsonValue,
  renameKeysTransform,
  splitKeyWords,
  type Transform,
  TransformError,
} from '../src/index.js';

// ---------------------------------------------------------------------------------------------
// helpers

/** Build a built-in transform the way a pipeline file does. */
function build(type: string, config?: unknown): Promise<Transform> {
  return createTransform(config === undefined ? { type } : { type, config });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * Run a transform on a deep-frozen copy of `input` (a write to it throws: ESM is strict mode), and
 * check afterwards that the input is unchanged and the output is a new object.
 */
function run(transform: Transform, input: JsonValue, options: { sameObjectOk?: boolean } = {}) {
  const before = structuredClone(input);
  const frozen = deepFreeze(structuredClone(input));
  const out = transform(frozen as FaucetRecord);
  expect(frozen).toEqual(before);
  if (!options.sameObjectOk && out !== null && !Array.isArray(out)) expect(out).not.toBe(frozen);
  return out;
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, nothing was thrown');
}

async function rejected(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection, the promise resolved');
}

function expectTransformError(fn: () => unknown, ...mentions: string[]): TransformError {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(TransformError);
  expect((error as TransformError).code).toBe('TRANSFORM_FAILED');
  for (const text of mentions) expect(error.message).toContain(text);
  return error as TransformError;
}

async function expectConfigError(promise: Promise<unknown>, ...mentions: string[]): Promise<ConfigError> {
  const error = await rejected(promise);
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).code).toBe('CONFIG_INVALID');
  for (const text of mentions) expect(error.message).toContain(text);
  return error as ConfigError;
}

const NOT_RECORDS: unknown[] = [null, [], [{ a: 1 }], 'text', 42, true];

async function expectRejectsNonRecords(type: string, config?: unknown) {
  const transform = await build(type, config);
  for (const value of NOT_RECORDS) {
    expectTransformError(() => transform(value as FaucetRecord), type, 'expected a record');
  }
}

// ---------------------------------------------------------------------------------------------

describe('flatten', () => {
  it('joins nested object keys with "__" by default and leaves arrays as they are', async () => {
    const flatten = await build('flatten');
    expect(
      run(flatten, { id: 1, user: { name: 'Ada', address: { city: 'Paris' } }, tags: [{ x: { y: 1 } }, 2] }),
    ).toEqual({ id: 1, user__name: 'Ada', user__address__city: 'Paris', tags: [{ x: { y: 1 } }, 2] });
  });

  it('uses the configured separator', async () => {
    const flatten = await build('flatten', { separator: '.' });
    expect(run(flatten, { a: { b: { c: 1 } } })).toEqual({ 'a.b.c': 1 });
  });

  it('drops empty nested objects and keeps nulls and empty arrays', async () => {
    const flatten = await build('flatten');
    expect(run(flatten, { a: {}, b: { c: {} }, d: null, e: [], f: { g: null } })).toEqual({
      d: null,
      e: [],
      f__g: null,
    });
    expect(run(flatten, {})).toEqual({});
  });

  it('stops at max_depth and keeps deeper objects as values', async () => {
    const flatten = await build('flatten', { max_depth: 1 });
    expect(run(flatten, { a: { b: { c: 1 }, d: 2 }, e: { f: {} } })).toEqual({
      a__b: { c: 1 },
      a__d: 2,
      e__f: {},
    });
    const two = await build('flatten', { max_depth: 2 });
    expect(run(two, { a: { b: { c: { d: 1 } } } })).toEqual({ a__b__c: { d: 1 } });
  });

  it('keeps the order of keys as they appear', async () => {
    const flatten = await build('flatten');
    const out = run(flatten, { z: 1, a: { y: 2, b: 3 }, c: 4 }) as FaucetRecord;
    expect(Object.keys(out)).toEqual(['z', 'a__y', 'a__b', 'c']);
  });

  it('fails on a key collision, naming the key, whichever key comes first', async () => {
    const flatten = await build('flatten');
    expectTransformError(() => flatten({ a__b: 1, a: { b: 2 } }), 'flatten', '"a__b"');
    expectTransformError(() => flatten({ a: { b: 2 }, a__b: 1 }), '"a__b"');
    expectTransformError(() => flatten({ a: { b__c: 1, b: { c: 2 } } }), '"a__b__c"');
  });

  it('does not put values in error messages', async () => {
    const flatten = await build('flatten');
    const error = expectTransformError(() => flatten({ a__b: 'secret-value', a: { b: 'other-secret' } }));
    expect(error.message).not.toContain('secret');
  });

  it('handles a "__proto__" key like any other key', async () => {
    const flatten = await build('flatten');
    const out = flatten(JSON.parse('{"__proto__":{"x":1},"a":{"__proto__":2}}')) as FaucetRecord;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto____x', 'a____proto__']);
    expect(out.a____proto__).toBe(2);
  });

  it('rejects a bad config', async () => {
    await expectConfigError(build('flatten', { separator: '' }), 'separator');
    await expectConfigError(build('flatten', { max_depth: 0 }), 'max_depth');
    await expectConfigError(build('flatten', { max_depth: 1.5 }), 'max_depth');
    await expectConfigError(build('flatten', { seperator: '.' }), 'seperator');
  });

  it('rejects non-object records', () => expectRejectsNonRecords('flatten'));
});

describe('rename_keys', () => {
  it('replaces every match in every key, leaving values alone', async () => {
    const rename = await build('rename_keys', { pattern: '-', replacement: '_' });
    expect(run(rename, { 'a-b-c': 'x-y', d: 1 })).toEqual({ a_b_c: 'x-y', d: 1 });
  });

  it('supports $1 and $<name> captures', async () => {
    const numbered = await build('rename_keys', { pattern: '^src_(\\w+)$', replacement: '$1_raw' });
    expect(run(numbered, { src_name: 1, other: 2 })).toEqual({ name_raw: 1, other: 2 });
    const named = await build('rename_keys', {
      pattern: '^(?<head>\\w)(?<tail>\\w*)$',
      replacement: '$<tail>$<head>',
    });
    expect(run(named, { abc: 1 })).toEqual({ bca: 1 });
  });

  it('renames nested keys by default, including objects inside arrays (and arrays of arrays)', async () => {
    const rename = await build('rename_keys', { pattern: ' ', replacement: '_' });
    expect(run(rename, { 'a b': { 'c d': 1 }, list: [{ 'e f': 2 }, [{ 'g h': 3 }], 'i j'] })).toEqual({
      a_b: { c_d: 1 },
      list: [{ e_f: 2 }, [{ g_h: 3 }], 'i j'],
    });
  });

  it('renames only top-level keys with recursive: false', async () => {
    const rename = await build('rename_keys', { pattern: ' ', replacement: '_', recursive: false });
    expect(run(rename, { 'a b': { 'c d': 1 } })).toEqual({ a_b: { 'c d': 1 } });
  });

  it('matches whole Unicode characters', async () => {
    const rename = await build('rename_keys', { pattern: '^.', replacement: 'X' });
    expect(run(rename, { '😀a': 1 })).toEqual({ Xa: 1 });
  });

  it('fails when two keys of one object get the same name, naming both', async () => {
    const rename = await build('rename_keys', { pattern: '-', replacement: '_' });
    expectTransformError(() => rename({ 'a-b': 1, a_b: 2 }), 'rename_keys', '"a-b"', '"a_b"');
    expectTransformError(() => rename({ a_b: 2, 'a-b': 1 }), '"a-b"', '"a_b"');
    const nested = expectTransformError(() => rename({ items: [{ ok: 1 }, { 'x-y': 1, x_y: 2 }] }));
    expect(nested.message).toContain('"x-y"');
    expect(nested.message).toContain('items[1]');
  });

  it('allows the same key in different objects', async () => {
    const rename = await build('rename_keys', { pattern: '-', replacement: '_' });
    expect(run(rename, { 'a-b': { 'a-b': 1 } })).toEqual({ a_b: { a_b: 1 } });
  });

  it('rejects an invalid regular expression at build time, naming the pattern', async () => {
    const error = await expectConfigError(
      createTransform(
        { type: 'rename_keys', config: { pattern: '(unclosed', replacement: '' } },
        'transforms[1]',
      ),
      '"(unclosed"',
      'transforms[1].config.pattern',
    );
    expect(error.issues).toHaveLength(1);
    // Called directly, without validation, create still refuses it.
    const direct = thrown(() =>
      renameKeysTransform.create({ pattern: '[', replacement: '', recursive: true }),
    );
    expect(direct).toBeInstanceOf(ConfigError);
    expect(direct.message).toContain('"["');
  });

  it('rejects a missing pattern or replacement', async () => {
    await expectConfigError(build('rename_keys', { replacement: '' }), 'pattern');
    await expectConfigError(build('rename_keys', { pattern: 'a' }), 'replacement');
    await expectConfigError(build('rename_keys', { pattern: '', replacement: 'x' }), 'pattern');
  });

  it('rejects non-object records', () =>
    expectRejectsNonRecords('rename_keys', { pattern: 'a', replacement: 'b' }));
});

describe('keys_case tokenizer', () => {
  it.each([
    ['First Name', 'first_name'],
    ['last-name', 'last_name'],
    ['ID', 'id'],
    ['userID', 'user_id'],
    ['XMLParser', 'xmlparser'],
    ['field1Name', 'field1name'],
    ['createdAt', 'created_at'],
    ['already_snake', 'already_snake'],
    ['  spaced   out  ', 'spaced_out'],
    ['price ($)', 'price'],
    ['a1b2', 'a1b2'],
    ['Ünïcode Kéy', 'ünïcode_kéy'],
    ['__private', 'private'],
    ['$', '$'],
    ['', ''],
  ])('snake: %j -> %j', (key, expected) => {
    expect(changeKeyCase(key, 'snake')).toBe(expected);
  });

  it.each([
    ['camel', 'first_name', 'firstName'],
    ['camel', 'User ID', 'userId'],
    ['camel', 'XMLParser', 'xmlparser'],
    ['pascal', 'first_name', 'FirstName'],
    ['pascal', 'userID', 'UserId'],
    ['kebab', 'First Name', 'first-name'],
    ['kebab', 'createdAt', 'created-at'],
    ['screaming_snake', 'createdAt', 'CREATED_AT'],
    ['screaming_snake', 'last-name', 'LAST_NAME'],
  ] as const)('%s: %j -> %j', (mode, key, expected) => {
    expect(changeKeyCase(key, mode)).toBe(expected);
  });

  it('splits words on separators and on lower-to-upper changes only', () => {
    expect(splitKeyWords('userID')).toEqual(['user', 'ID']);
    expect(splitKeyWords('field1Name')).toEqual(['field1Name']);
    expect(splitKeyWords('a.b-c d')).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('keys_case', () => {
  it('re-cases nested keys by default, including objects inside arrays', async () => {
    const camel = await build('keys_case', { mode: 'camel' });
    expect(run(camel, { user_name: 'x', 'home address': { zip_code: '1' }, list: [{ item_id: 1 }] })).toEqual(
      {
        userName: 'x',
        homeAddress: { zipCode: '1' },
        list: [{ itemId: 1 }],
      },
    );
  });

  it('re-cases only top-level keys with recursive: false', async () => {
    const kebab = await build('keys_case', { mode: 'kebab', recursive: false });
    expect(run(kebab, { userName: { innerKey: 1 } })).toEqual({ 'user-name': { innerKey: 1 } });
  });

  it('supports every mode', async () => {
    const input = { 'first name': 1 };
    const expected = {
      snake: 'first_name',
      camel: 'firstName',
      pascal: 'FirstName',
      kebab: 'first-name',
      screaming_snake: 'FIRST_NAME',
    };
    for (const [mode, key] of Object.entries(expected)) {
      expect(run(await build('keys_case', { mode }), input)).toEqual({ [key]: 1 });
    }
  });

  it('fails when two keys re-case to the same name, naming both original keys', async () => {
    const snake = await build('keys_case', { mode: 'snake' });
    expectTransformError(
      () => snake({ userName: 1, user_name: 2 }),
      'keys_case',
      '"userName"',
      '"user_name"',
    );
    const nested = expectTransformError(
      () => snake({ a: { 'First Name': 1, firstName: 2 } }),
      '"First Name"',
    );
    expect(nested.message).toContain('"firstName"');
    expect(nested.message).toContain('"first_name"');
    expect(nested.message).toContain(' in a');
  });

  it('stays correct past its key cache size', async () => {
    const snake = await build('keys_case', { mode: 'snake' });
    for (let i = 0; i < 25_000; i++) {
      expect(snake({ [`fieldNumber${i}X`]: i, sameKey: i })).toEqual({
        [`field_number${i}x`]: i,
        same_key: i,
      });
    }
  });

  it('rejects a bad config', async () => {
    await expectConfigError(build('keys_case', { mode: 'title' }), 'mode');
    await expectConfigError(build('keys_case', {}), 'mode');
    await expectConfigError(build('keys_case', { mode: 'snake', recursive: 'yes' }), 'recursive');
  });

  it('rejects non-object records', () => expectRejectsNonRecords('keys_case', { mode: 'snake' }));
});

describe('snake_case', () => {
  it('is keys_case with mode snake, and needs no config', async () => {
    const snake = await build('snake_case');
    expect(run(snake, { 'First Name': 1, 'last-name': 2, ID: 3, nested: [{ createdAt: 4 }] })).toEqual({
      first_name: 1,
      last_name: 2,
      id: 3,
      nested: [{ created_at: 4 }],
    });
    expect(run(await createTransform({ type: 'snake_case', config: null }), { aB: 1 })).toEqual({ a_b: 1 });
  });

  it('fails on re-casing collisions, naming both keys', async () => {
    const snake = await build('snake_case');
    expectTransformError(() => snake({ ID: 1, id: 2 }), 'snake_case', '"ID"', '"id"');
  });

  it('rejects any config key', async () => {
    await expectConfigError(build('snake_case', { mode: 'camel' }), 'mode');
  });

  it('rejects non-object records', () => expectRejectsNonRecords('snake_case'));
});

describe('select', () => {
  it('keeps the listed fields in the listed order, without creating missing ones', async () => {
    const select = await build('select', { fields: ['c', 'a', 'missing'] });
    const out = run(select, { a: 1, b: 2, c: { d: 3 } }) as FaucetRecord;
    expect(out).toEqual({ c: { d: 3 }, a: 1 });
    expect(Object.keys(out)).toEqual(['c', 'a']);
  });

  it('keeps null values and ignores repeated fields', async () => {
    const select = await build('select', { fields: ['a', 'a'] });
    expect(run(select, { a: null, b: 1 })).toEqual({ a: null });
  });

  it('selects only own fields, so "constructor" or "__proto__" are never invented', async () => {
    const select = await build('select', { fields: ['constructor', 'toString', '__proto__'] });
    expect(run(select, {})).toEqual({});
    const out = select(JSON.parse('{"__proto__":{"a":1}}')) as FaucetRecord;
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ a: 1 });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it('rejects a bad config', async () => {
    await expectConfigError(build('select', { fields: [] }), 'fields', 'at least one field');
    await expectConfigError(build('select', {}), 'fields');
    await expectConfigError(build('select', { fields: 'a' }), 'fields');
  });

  it('rejects non-object records', () => expectRejectsNonRecords('select', { fields: ['a'] }));
});

describe('drop', () => {
  it('removes the listed fields and keeps the rest in order', async () => {
    const drop = await build('drop', { fields: ['b', 'missing'] });
    const out = run(drop, { a: 1, b: 2, c: 3 }) as FaucetRecord;
    expect(Object.keys(out)).toEqual(['a', 'c']);
    expect(out).toEqual({ a: 1, c: 3 });
  });

  it('only looks at top-level fields', async () => {
    const drop = await build('drop', { fields: ['b'] });
    expect(run(drop, { a: { b: 1 } })).toEqual({ a: { b: 1 } });
  });

  it('rejects a bad config', async () => {
    await expectConfigError(build('drop', { fields: [] }), 'fields');
    await expectConfigError(build('drop', { fields: [1] }), 'fields');
  });

  it('rejects non-object records', () => expectRejectsNonRecords('drop', { fields: ['a'] }));
});

describe('set', () => {
  it('adds new fields at the end and overwrites existing ones in place', async () => {
    const set = await build('set', { values: { source: 'crm', b: null, extra: { n: [1] } } });
    const out = run(set, { a: 1, b: 2 }) as FaucetRecord;
    expect(out).toEqual({ a: 1, b: null, source: 'crm', extra: { n: [1] } });
    expect(Object.keys(out)).toEqual(['a', 'b', 'source', 'extra']);
  });

  it('gives every record its own copy of object values', async () => {
    const set = await build('set', { values: { meta: { tags: ['x'] } } });
    const first = set({}) as { meta: { tags: string[] } };
    first.meta.tags.push('changed');
    expect(set({})).toEqual({ meta: { tags: ['x'] } });
  });

  it('rejects a bad config', async () => {
    await expectConfigError(build('set', {}), 'values');
    await expectConfigError(build('set', { values: {} }), 'values', 'at least one value');
    await expectConfigError(build('set', { values: [1] }), 'values');
  });

  it('rejects non-object records', () => expectRejectsNonRecords('set', { values: { a: 1 } }));
});

describe('cast', () => {
  const castOne = async (target: string, value: JsonValue, onError?: string) => {
    const cast = await build('cast', { fields: { v: target }, ...(onError ? { on_error: onError } : {}) });
    return run(cast, { v: value, other: 'kept' });
  };
  const castValue = async (target: string, value: JsonValue) => {
    const out = (await castOne(target, value)) as FaucetRecord;
    expect(out.other).toBe('kept');
    return out.v;
  };

  it.each([
    ['42', 42],
    [' 42 ', 42],
    ['-7', -7],
    ['+7', 7],
    ['3.0', 3],
    ['1e3', 1000],
    [42, 42],
    [-0.0, -0],
    [true, 1],
    [false, 0],
    ['9007199254740991', 9007199254740991],
    // Past 2^53 an integer keeps its exact digits as a string, as records carry big integers.
    ['9007199254740993', '9007199254740993'],
    ['-000123456789012345678', '-123456789012345678'],
    ['+123456789012345678901.000', '123456789012345678901'],
  ] as const)('int: %j -> %j', async (value, expected) => {
    expect(await castValue('int', value)).toBe(expected);
  });

  it.each([
    ['3.14', 3.14],
    [' -1e-3 ', -0.001],
    ['.5', 0.5],
    [2, 2],
    [2.5, 2.5],
    [true, 1],
    ['9007199254740993', 9007199254740992],
  ] as const)('float: %j -> %j', async (value, expected) => {
    expect(await castValue('float', value)).toBe(expected);
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    [' Yes ', true],
    ['1', true],
    ['false', false],
    ['No', false],
    ['0', false],
    [1, true],
    [0, false],
    [true, true],
  ] as const)('bool: %j -> %j', async (value, expected) => {
    expect(await castValue('bool', value)).toBe(expected);
  });

  it.each([
    [42, '42'],
    [1.5, '1.5'],
    [true, 'true'],
    ['x', 'x'],
    [{ a: 1 }, '{"a":1}'],
    [[1, 'b'], '[1,"b"]'],
  ] as const)('string: %j -> %j', async (value, expected) => {
    expect(await castValue('string', value as JsonValue)).toBe(expected);
  });

  it.each([
    [0, '1970-01-01T00:00:00.000Z'],
    [1714558830123, '2024-05-01T10:20:30.123Z'],
    ['1714558830123', '2024-05-01T10:20:30.123Z'],
    ['2024-05-01', '2024-05-01T00:00:00.000Z'],
    ['2024-05-01T10:20', '2024-05-01T10:20:00.000Z'],
    ['2024-05-01T10:20:30Z', '2024-05-01T10:20:30.000Z'],
    ['2024-05-01T10:20:30', '2024-05-01T10:20:30.000Z'],
    ['2024-05-01 10:20:30.123456', '2024-05-01T10:20:30.123Z'],
    ['2024-05-01T10:20:30.5+02:00', '2024-05-01T08:20:30.500Z'],
    ['2024-05-01T10:20:30-0530', '2024-05-01T15:50:30.000Z'],
    ['2024-05-01T10:20:30+01', '2024-05-01T09:20:30.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['0099-01-01', '0099-01-01T00:00:00.000Z'],
    ['Wed, 01 May 2024 10:20:30 +0200', '2024-05-01T08:20:30.000Z'],
    ['1 May 2024 10:20 GMT', '2024-05-01T10:20:00.000Z'],
  ] as const)('timestamp: %j -> %j', async (value, expected) => {
    expect(await castValue('timestamp', value)).toBe(expected);
  });

  it.each([
    ['int', 3.5],
    ['int', '3.5'],
    ['int', 'abc'],
    ['int', ''],
    ['int', '1e30'],
    ['int', '0x10'],
    ['int', { a: 1 }],
    ['int', [1]],
    ['float', 'abc'],
    ['float', ''],
    ['float', 'Infinity'],
    ['float', 'NaN'],
    ['float', '0x10'],
    ['float', '1e400'],
    ['float', [1]],
    ['bool', 'maybe'],
    ['bool', 2],
    ['bool', 't'],
    ['bool', {}],
    ['timestamp', 'yesterday'],
    ['timestamp', '2023-02-29'],
    ['timestamp', '2024-13-01'],
    ['timestamp', '2024-05-01T24:00:00Z'],
    ['timestamp', '2024-05-01T10:20:30+25:00'],
    ['timestamp', '05/01/2024'],
    ['timestamp', 'Wed, 01 Foo 2024 10:20:30 +0200'],
    ['timestamp', 1e20],
    ['timestamp', true],
    ['timestamp', {}],
  ] as const)('%s: %j cannot be cast', async (target, value) => {
    const error = await rejected(castOne(target, value as JsonValue));
    expect(error).toBeInstanceOf(TransformError);
    expect((error as TransformError).code).toBe('TRANSFORM_FAILED');
    expect(error.message).toContain('"v"');
    expect(error.message).toContain(target);
  });

  it('names the field, target type and value type in errors, never the value', async () => {
    const cast = await build('cast', { fields: { ssn: 'int' } });
    const error = expectTransformError(() => cast({ ssn: '123-45-6789' }), '"ssn"', 'int', 'a string');
    expect(error.message).not.toContain('123-45-6789');
    const fractional = expectTransformError(() => cast({ ssn: 12.5 }), 'a fractional number');
    expect(fractional.message).not.toContain('12.5');
  });

  it('leaves missing fields missing and null values null', async () => {
    const cast = await build('cast', { fields: { a: 'int', b: 'timestamp', c: 'string' } });
    expect(run(cast, { a: null, d: 'x' })).toEqual({ a: null, d: 'x' });
  });

  it('casts several fields and keeps key order', async () => {
    const cast = await build('cast', { fields: { b: 'int', a: 'bool' } });
    const out = run(cast, { a: 'yes', b: '2', c: 3 }) as FaucetRecord;
    expect(out).toEqual({ a: true, b: 2, c: 3 });
    expect(Object.keys(out)).toEqual(['a', 'b', 'c']);
  });

  it('on_error: null sets the field to null and keeps the record', async () => {
    expect(await castOne('int', 'abc', 'null')).toEqual({ v: null, other: 'kept' });
  });

  it('on_error: null also works as a bare YAML null (which parses to null, not "null")', async () => {
    const cast = await createTransform({ type: 'cast', config: { fields: { v: 'int' }, on_error: null } });
    expect(cast({ v: 'abc' })).toEqual({ v: null });
  });

  it('on_error: skip drops the record', async () => {
    expect(await castOne('int', 'abc', 'skip')).toBeNull();
    expect(await castOne('int', '12', 'skip')).toEqual({ v: 12, other: 'kept' });
  });

  it('rejects a bad config, listing every problem', async () => {
    const error = await expectConfigError(
      createTransform(
        { type: 'cast', config: { fields: { age: 'integer' }, on_error: 'ignore' } },
        'transforms[0]',
      ),
      'transforms[0].config.fields.age',
      'transforms[0].config.on_error',
    );
    expect(error.issues).toHaveLength(2);
    await expectConfigError(
      build('cast', { fields: { a: 'int' }, on_error: 'ignore' }),
      'on_error',
      'expected one of "error", "null", "skip"',
    );
    await expectConfigError(build('cast', { fields: {} }), 'fields');
    await expectConfigError(build('cast', {}), 'fields');
  });

  it('rejects non-object records', () => expectRejectsNonRecords('cast', { fields: { a: 'int' } }));
});

describe('filter', () => {
  const keeps = async (config: unknown, record: JsonValue) => {
    const filter = await build('filter', config);
    const out = run(filter, record, { sameObjectOk: true });
    return out !== null;
  };

  it('passes a kept record through unchanged', async () => {
    const filter = await build('filter', { path: 'a', op: 'eq', value: 1 });
    const record = { a: 1, b: { c: 2 } };
    expect(filter(record)).toBe(record);
    expect(record).toEqual({ a: 1, b: { c: 2 } });
    expect(filter({ a: 2 })).toBeNull();
  });

  it('eq uses strict JSON equality', async () => {
    expect(await keeps({ path: 'a', op: 'eq', value: 1 }, { a: 1 })).toBe(true);
    expect(await keeps({ path: 'a', op: 'eq', value: 1 }, { a: 1.0 })).toBe(true);
    expect(await keeps({ path: 'a', op: 'eq', value: 1 }, { a: '1' })).toBe(false);
    expect(await keeps({ path: 'a', op: 'eq', value: true }, { a: 1 })).toBe(false);
    expect(await keeps({ path: 'a', op: 'eq', value: null }, { a: null })).toBe(true);
    expect(await keeps({ path: 'a', op: 'eq', value: null }, {})).toBe(false);
    expect(await keeps({ path: 'a', op: 'eq', value: { x: 1, y: [1, 2] } }, { a: { y: [1, 2], x: 1 } })).toBe(
      true,
    );
    expect(await keeps({ path: 'a', op: 'eq', value: { x: 1 } }, { a: { x: 1, y: 2 } })).toBe(false);
    expect(await keeps({ path: 'a', op: 'eq', value: [1, 2] }, { a: [2, 1] })).toBe(false);
  });

  it('ne keeps records where the path is missing', async () => {
    expect(await keeps({ path: 'a', op: 'ne', value: 1 }, { a: 1 })).toBe(false);
    expect(await keeps({ path: 'a', op: 'ne', value: 1 }, { a: '1' })).toBe(true);
    expect(await keeps({ path: 'a', op: 'ne', value: 1 }, {})).toBe(true);
    expect(await keeps({ path: 'a', op: 'ne', value: { x: 1 } }, { a: { x: 1 } })).toBe(false);
  });

  it('exists and not_exists count a null value as present', async () => {
    expect(await keeps({ path: 'a', op: 'exists' }, { a: null })).toBe(true);
    expect(await keeps({ path: 'a', op: 'exists' }, { b: 1 })).toBe(false);
    expect(await keeps({ path: 'a', op: 'not_exists' }, { a: null })).toBe(false);
    expect(await keeps({ path: 'a', op: 'not_exists' }, {})).toBe(true);
  });

  it('in and not_in test membership with strict equality; not_in keeps missing', async () => {
    const inList = { path: 'c', op: 'in', value: ['FR', 1, null, { k: 1 }] };
    expect(await keeps(inList, { c: 'FR' })).toBe(true);
    expect(await keeps(inList, { c: '1' })).toBe(false);
    expect(await keeps(inList, { c: null })).toBe(true);
    expect(await keeps(inList, { c: { k: 1 } })).toBe(true);
    expect(await keeps(inList, {})).toBe(false);
    const notIn = { path: 'c', op: 'not_in', value: ['FR', 'DE'] };
    expect(await keeps(notIn, { c: 'FR' })).toBe(false);
    expect(await keeps(notIn, { c: 'US' })).toBe(true);
    expect(await keeps(notIn, {})).toBe(true);
  });

  it('gt, gte, lt, lte compare numbers with numbers and strings with strings only', async () => {
    expect(await keeps({ path: 'n', op: 'gt', value: 10 }, { n: 11 })).toBe(true);
    expect(await keeps({ path: 'n', op: 'gt', value: 10 }, { n: 10 })).toBe(false);
    expect(await keeps({ path: 'n', op: 'gte', value: 10 }, { n: 10 })).toBe(true);
    expect(await keeps({ path: 'n', op: 'lt', value: 10 }, { n: 9.5 })).toBe(true);
    expect(await keeps({ path: 'n', op: 'lte', value: 10 }, { n: 10 })).toBe(true);
    expect(await keeps({ path: 'n', op: 'lte', value: 10 }, { n: 11 })).toBe(false);
    expect(await keeps({ path: 'n', op: 'gt', value: 10 }, { n: '11' })).toBe(false);
    expect(await keeps({ path: 'n', op: 'lt', value: 10 }, { n: null })).toBe(false);
    expect(await keeps({ path: 'n', op: 'lt', value: 10 }, {})).toBe(false);
    const since = { path: 'd', op: 'gte', value: '2024-01-01' };
    expect(await keeps(since, { d: '2024-03-01T00:00:00Z' })).toBe(true);
    expect(await keeps(since, { d: '2023-12-31' })).toBe(false);
    expect(await keeps(since, { d: 20240301 })).toBe(false);
  });

  it('follows dotted paths into nested objects and array positions', async () => {
    expect(
      await keeps(
        { path: 'user.address.country', op: 'eq', value: 'FR' },
        { user: { address: { country: 'FR' } } },
      ),
    ).toBe(true);
    expect(await keeps({ path: 'user.address.country', op: 'exists' }, { user: { address: null } })).toBe(
      false,
    );
    expect(await keeps({ path: 'user.address.country', op: 'exists' }, { user: 'x' })).toBe(false);
    expect(await keeps({ path: 'items.1.id', op: 'eq', value: 7 }, { items: [{ id: 1 }, { id: 7 }] })).toBe(
      true,
    );
    expect(await keeps({ path: 'items.2.id', op: 'exists' }, { items: [{ id: 1 }] })).toBe(false);
    expect(await keeps({ path: 'items.x', op: 'exists' }, { items: [{ id: 1 }] })).toBe(false);
    expect(await keeps({ path: 'a.constructor', op: 'exists' }, { a: {} })).toBe(false);
  });

  it('requires value for every op but exists and not_exists, naming the op', async () => {
    for (const op of ['eq', 'ne', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte']) {
      await expectConfigError(
        createTransform({ type: 'filter', config: { path: 'a', op } }, 'transforms[4]'),
        'transforms[4].config.value',
        `required for op "${op}"`,
      );
    }
  });

  it('rejects a value of the wrong shape for the op', async () => {
    await expectConfigError(build('filter', { path: 'a', op: 'in', value: 'FR' }), 'value', 'must be a list');
    await expectConfigError(
      build('filter', { path: 'a', op: 'not_in', value: 1 }),
      'value',
      'must be a list',
    );
    await expectConfigError(
      build('filter', { path: 'a', op: 'gt', value: [1] }),
      'value',
      'number or a string',
    );
    await expectConfigError(
      build('filter', { path: 'a', op: 'lt', value: null }),
      'value',
      'number or a string',
    );
    await expectConfigError(build('filter', { path: 'a', op: 'exists', value: 1 }), 'value', 'not used');
  });

  it('rejects an unknown op or a missing path', async () => {
    await expectConfigError(build('filter', { path: 'a', op: 'like', value: 'x' }), 'op');
    await expectConfigError(build('filter', { op: 'exists' }), 'path');
    await expectConfigError(build('filter', { path: '', op: 'exists' }), 'path');
  });

  it('rejects non-object records', () => expectRejectsNonRecords('filter', { path: 'a', op: 'exists' }));
});

describe('builtinTransforms and createTransform', () => {
  it('lists every built-in transform as a transform descriptor with a JSON Schema', () => {
    expect(Object.keys(builtinTransforms).sort()).toEqual([
      'cast',
      'cdc_unwrap',
      'drop',
      'filter',
      'flatten',
      'keys_case',
      'rename_keys',
      'select',
      'set',
      'snake_case',
    ]);
    for (const [id, descriptor] of Object.entries(builtinTransforms)) {
      expect(isTransformDescriptor(descriptor)).toBe(true);
      expect(descriptor.id).toBe(id);
      expect(descriptor.description).toBeTruthy();
      expect(configJsonSchema(descriptor)).toMatchObject({ type: 'object' });
    }
    expect(builtinTransform('flatten')).toBe(builtinTransforms.flatten);
    expect(builtinTransform('toString')).toBeUndefined();
  });

  it('rejects an unknown type, naming it and listing the available ones', async () => {
    const error = await expectConfigError(
      createTransform({ type: 'uppercase' }, 'pipeline.transforms[3]'),
      'pipeline.transforms[3].type',
      '"uppercase"',
      'cast, cdc_unwrap, drop, filter, flatten, keys_case, rename_keys, select, set, snake_case',
    );
    expect(error.issues).toHaveLength(1);
    await expectConfigError(createTransform({ type: 'constructor' }), 'unknown transform type "constructor"');
  });

  it('prefixes config errors with the spec position and names the transform', async () => {
    await expectConfigError(
      createTransform({ type: 'flatten', config: { separator: 3 } }, 'pipeline.transforms[2]'),
      'invalid config for transform "flatten"',
      'pipeline.transforms[2].config.separator',
    );
    await expectConfigError(
      createTransform({ type: 'flatten', config: { separator: 3 } }),
      'config.separator',
    );
  });

  it('uses the defaults when config is missing or null', async () => {
    const flatten = await createTransform({ type: 'flatten' });
    expect(flatten({ a: { b: 1 } })).toEqual({ a__b: 1 });
    const nullConfig = await createTransform({ type: 'keys_case', config: null }).catch((e: Error) => e);
    expect(nullConfig).toBeInstanceOf(ConfigError);
    expect((nullConfig as Error).message).toContain('config.mode');
  });
});

describe('composeTransforms', () => {
  const explode: Transform = (record) => {
    const items = record.items;
    return Array.isArray(items)
      ? items.map((item) => ({ ...(item as FaucetRecord), order: record.id ?? null }))
      : record;
  };

  it('returns the record itself when there are no transforms', () => {
    const record = { a: 1 };
    expect(composeTransforms([])(record)).toEqual([record]);
  });

  it('applies 1:1 transforms in order', async () => {
    const chain = composeTransforms([
      await build('snake_case'),
      await build('flatten'),
      await build('select', { fields: ['user__first_name', 'id'] }),
    ]);
    expect(chain({ id: 1, user: { firstName: 'Ada', lastName: 'L' } })).toEqual([
      { user__first_name: 'Ada', id: 1 },
    ]);
  });

  it('keys_case after flatten re-cases the separator too, so re-case first', async () => {
    const chain = composeTransforms([await build('flatten'), await build('snake_case')]);
    expect(chain({ user: { firstName: 'Ada' } })).toEqual([{ user_first_name: 'Ada' }]);
  });

  it('returns no records when a transform filters the record out', async () => {
    const chain = composeTransforms([
      await build('filter', { path: 'a', op: 'eq', value: 1 }),
      await build('flatten'),
    ]);
    expect(chain({ a: 2 })).toEqual([]);
    expect(chain({ a: 1, b: { c: 1 } })).toEqual([{ a: 1, b__c: 1 }]);
  });

  it('runs the rest of the chain on every record an exploding transform emits', async () => {
    const chain = composeTransforms([
      explode,
      await build('filter', { path: 'keep', op: 'eq', value: true }),
      await build('drop', { fields: ['keep'] }),
    ]);
    expect(
      chain({
        id: 9,
        items: [
          { n: 1, keep: true },
          { n: 2, keep: false },
          { n: 3, keep: true },
        ],
      }),
    ).toEqual([
      { n: 1, order: 9 },
      { n: 3, order: 9 },
    ]);
    expect(chain({ id: 9, items: [] })).toEqual([]);
  });

  it('handles an explode after an explode', () => {
    const pairs: Transform = (record) => [
      { ...record, side: 'l' },
      { ...record, side: 'r' },
    ];
    expect(composeTransforms([pairs, pairs])({ x: 1 })).toHaveLength(4);
    expect(composeTransforms([pairs, (r) => (r.side === 'l' ? r : null), pairs])({ x: 1 })).toEqual([
      { x: 1, side: 'l' },
      { x: 1, side: 'r' },
    ]);
  });

  it('rethrows transform errors as they are', async () => {
    const chain = composeTransforms([await build('cast', { fields: { a: 'int' } })]);
    expectTransformError(() => chain({ a: 'x' }), 'cast', '"a"');
  });

  it('wraps anything else thrown into a TransformError naming the step, keeping the cause', () => {
    const cause = new TypeError('boom');
    const chain = composeTransforms([
      (r) => r,
      () => {
        throw cause;
      },
    ]);
    const error = expectTransformError(() => chain({}), 'transforms[1]', 'boom');
    expect(error.cause).toBe(cause);
  });

  it('refuses a transform that returns something other than a record, array or null', () => {
    const bad = (() => 42) as unknown as Transform;
    expectTransformError(() => composeTransforms([bad])({}), 'transforms[0]', 'number');
    const missing = (() => undefined) as unknown as Transform;
    expect(composeTransforms([missing])({})).toEqual([]);
  });
});
