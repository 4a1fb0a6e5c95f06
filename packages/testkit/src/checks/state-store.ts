/**
 * The state store checks: round-trip of every JSON shape with list and delete, atomic overwrite under
 * concurrent readers, a failed put that leaves the old value, the lock, and durability across
 * instances. Keys are unique per check, so a shared backend (a Redis, a table) can be used as is.
 */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ErrorCodes, isFaucetError, type JsonObject, type JsonValue, type StateStore } from '@faucet/core';
import { describeError, type Violation, violation } from '../conformance-error.js';
import { settle } from '../env.js';

export type StateStoreFactory = () => StateStore | Promise<StateStore>;

export interface StateStoreCheck {
  name: string;
  /** A store instance. */
  create: StateStoreFactory;
}

export interface StateStoreDurableCheck extends StateStoreCheck {
  /** A second instance over the same storage (a new process). */
  reopen: StateStoreFactory;
}

/** A key prefix no other check or run uses. */
export function uniquePrefix(check: string): string {
  return `conformance.${check}.${randomBytes(4).toString('hex')}::`;
}

async function open(create: StateStoreFactory, fail: Violation): Promise<StateStore> {
  try {
    return await create();
  } catch (error) {
    return fail(`create() failed: ${describeError(error)}`, error);
  }
}

async function closeStore(store: StateStore): Promise<void> {
  await settle(Promise.resolve().then(() => store.close?.()));
}

/** Run an operation; a failure is a violation of the check's rule, naming the operation. */
async function op<T>(fail: Violation, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    return fail(`${what} failed: ${describeError(error)}`, error);
  }
}

const SAMPLES: [string, JsonValue][] = [
  [
    'object',
    { v: 1, bookmark: { offset: 42, ids: [1, 2, 3] }, run_id: 'r', nested: { a: { b: { c: null } } } },
  ],
  ['array', [1, 'two', true, null, { three: 3.5 }, []]],
  ['string', 'text with ünïcødé, "quotes", \\ backslash and ✓'],
  ['number', 1234567.89],
  ['zero', 0],
  ['false', false],
  ['null', null],
  ['empty object', {}],
  ['large value', { payload: 'x'.repeat(64 * 1024), list: Array.from({ length: 500 }, (_, i) => i) }],
];

/** Rule state-round-trip. */
export async function assertStateRoundTrip(check: StateStoreCheck): Promise<void> {
  const fail = violation('state store', check.name, 'state-round-trip');
  const store = await open(check.create, fail);
  const prefix = uniquePrefix('round-trip');
  const keyOf = (i: number) => `${prefix}k${i}`;
  try {
    if (typeof store.durable !== 'boolean')
      fail(`store.durable must be true or false, got ${String(store.durable)}`);
    const missing = await op(fail, 'get() of a key never put', () => store.get(`${prefix}missing`));
    if (missing !== undefined)
      fail(`get() of a key never put returned ${JSON.stringify(missing)}, not undefined`);
    for (const [i, [label, value]] of SAMPLES.entries()) {
      await op(fail, `put() of ${label}`, () => store.put(keyOf(i), value));
    }
    for (const [i, [label, value]] of SAMPLES.entries()) {
      const got = await op(fail, `get() of ${label}`, () => store.get(keyOf(i)));
      if (!isDeepStrictEqual(got, value)) {
        fail(`put then get of ${label} returned ${JSON.stringify(got)?.slice(0, 120)}, not what was put`);
      }
    }
    const all = SAMPLES.map((_, i) => keyOf(i)).sort();
    const listed = await op(fail, `list("${prefix}")`, () => store.list(prefix));
    if (!isDeepStrictEqual([...listed].sort(), all)) {
      fail(
        `list("${prefix}") returned ${JSON.stringify(listed)}, expected the ${all.length} keys put under it`,
      );
    }
    const everything = await op(fail, 'list()', () => store.list());
    const absent = all.filter((k) => !everything.includes(k));
    if (absent.length > 0) fail(`list() without a prefix lacks ${absent.join(', ')}`);
    const narrow = await op(fail, 'list() of a narrower prefix', () => store.list(`${prefix}k1`));
    if (narrow.some((k) => !k.startsWith(`${prefix}k1`))) {
      fail(`list("${prefix}k1") returned keys outside the prefix: ${JSON.stringify(narrow)}`);
    }

    await op(fail, 'put() over an existing value', () => store.put(keyOf(0), { replaced: true }));
    const replaced = await op(fail, 'get() after an overwrite', () => store.get(keyOf(0)));
    if (!isDeepStrictEqual(replaced, { replaced: true })) {
      fail(`after put over an existing value, get returned ${JSON.stringify(replaced)}`);
    }

    const mine: JsonObject = { cursor: { id: 1 }, seen: [1] };
    await op(fail, 'put()', () => store.put(keyOf(1), mine));
    (mine.cursor as JsonObject).id = 99;
    (mine.seen as number[]).push(2);
    const copy = await op(fail, 'get()', () => store.get(keyOf(1)));
    if (!isDeepStrictEqual(copy, { cursor: { id: 1 }, seen: [1] })) {
      fail(
        `changing an object after put() changed the stored value (got ${JSON.stringify(copy)}); store a copy`,
      );
    }
    ((copy as JsonObject).seen as number[]).push(3);
    const again = await op(fail, 'get()', () => store.get(keyOf(1)));
    if (!isDeepStrictEqual(again, { cursor: { id: 1 }, seen: [1] })) {
      fail(
        `changing the object get() returned changed the stored value (got ${JSON.stringify(again)}); ` +
          `return a copy`,
      );
    }

    await op(fail, 'delete()', () => store.delete(keyOf(2)));
    const gone = await op(fail, 'get() after delete', () => store.get(keyOf(2)));
    if (gone !== undefined) fail(`get() after delete() returned ${JSON.stringify(gone)}, not undefined`);
    await op(fail, 'delete() of a key already deleted', () => store.delete(keyOf(2)));
    const afterDelete = await op(fail, 'list() after delete', () => store.list(prefix));
    if (afterDelete.includes(keyOf(2))) fail(`list() still shows ${keyOf(2)} after it was deleted`);
  } finally {
    for (let i = 0; i < SAMPLES.length; i++) await settle(store.delete(keyOf(i)));
    await closeStore(store);
  }
}

function bigValue(version: number): JsonObject {
  const value: JsonObject = { version };
  for (let f = 0; f < 200; f++) value[`field_${f}`] = `v${version}-${f}-${'y'.repeat(64)}`;
  return value;
}

/**
 * Rule state-atomic-put: many concurrent puts of large values to one key, with readers in between;
 * every read returns one complete value that was put. After awaited puts, the last one wins. A put of
 * a value JSON cannot hold fails with a FaucetError and leaves the old value.
 */
export async function assertStateAtomicPut(check: StateStoreCheck): Promise<void> {
  const fail = violation('state store', check.name, 'state-atomic-put');
  const store = await open(check.create, fail);
  const key = `${uniquePrefix('atomic')}bookmark`;
  try {
    const versions = Array.from({ length: 21 }, (_, v) => bigValue(v));
    await op(fail, 'the first put()', () => store.put(key, versions[0] as JsonObject));
    const reads: Promise<JsonValue | undefined>[] = [];
    const writes: Promise<void>[] = [];
    for (let v = 1; v < versions.length; v++) {
      writes.push(store.put(key, versions[v] as JsonObject));
      reads.push(store.get(key));
      await new Promise((resolve) => setImmediate(resolve));
      reads.push(store.get(key));
    }
    const written = await Promise.allSettled(writes);
    const failedWrite = written.find((w) => w.status === 'rejected');
    if (failedWrite)
      fail(`a concurrent put() failed: ${describeError((failedWrite as PromiseRejectedResult).reason)}`);
    const seen = await Promise.allSettled(reads);
    for (const [i, read] of seen.entries()) {
      if (read.status === 'rejected') {
        return fail(`a get() during concurrent puts failed: ${describeError(read.reason)}`, read.reason);
      }
      const value = read.value;
      const version = (value as { version?: unknown } | undefined)?.version;
      const whole = typeof version === 'number' && isDeepStrictEqual(value, versions[version]);
      if (!whole) {
        fail(
          `get() number ${i + 1} during concurrent puts returned ${describePartial(value)}; a reader must ` +
            'see the old or the new value, complete',
        );
      }
    }
    for (const v of [3, 17, 9]) {
      await op(fail, 'put()', () => store.put(key, versions[v] as JsonObject));
      const got = await op(fail, 'get()', () => store.get(key));
      if (!isDeepStrictEqual(got, versions[v])) {
        fail(`after awaiting put() of version ${v}, get() returned ${describePartial(got)}`);
      }
    }
    const cyclic: JsonObject = { version: -1 };
    cyclic.self = cyclic;
    const refused = await settle(store.put(key, cyclic));
    if (refused.ok) fail('put() of a cyclic value (which JSON cannot hold) succeeded');
    else if (!isFaucetError(refused.error)) {
      fail(
        `put() of a value JSON cannot hold threw a raw ${describeError(refused.error)}, not a FaucetError`,
        refused.error,
      );
    }
    const kept = await op(fail, 'get() after a failed put', () => store.get(key));
    if (!isDeepStrictEqual(kept, versions[9])) {
      fail(
        `a failed put() changed the stored value: get() returned ${describePartial(kept)}, not the old value`,
      );
    }
  } finally {
    await settle(store.delete(key));
    await closeStore(store);
  }
}

function describePartial(value: JsonValue | undefined): string {
  if (value === undefined) return 'undefined (the key looked absent)';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return JSON.stringify(value);
  const fields = Object.keys(value).length;
  return `a value with version ${JSON.stringify(value.version)} and ${fields} of 201 fields`;
}

export interface StateLockCheck extends StateStoreCheck {
  /** A second instance over the same storage; when given, it must be excluded too. */
  reopen?: StateStoreFactory;
}

/**
 * Rule state-lock: a held lock refuses a second holder with STATE_LOCKED naming the key (from this
 * instance and, with `reopen`, from another), leaves other keys alone, and is free again once
 * released; releasing twice is harmless and does not free a later holder's lock.
 */
export async function assertStateLock(check: StateLockCheck): Promise<void> {
  const fail = violation('state store', check.name, 'state-lock');
  const store = await open(check.create, fail);
  const other = check.reopen ? await open(check.reopen, fail) : undefined;
  const key = `${uniquePrefix('lock')}row-0`;
  const held: (() => Promise<void>)[] = [];
  const lockOf = (s: StateStore) => {
    if (typeof s.lock !== 'function') fail('the store has no lock() method');
    return (s.lock as NonNullable<StateStore['lock']>).bind(s);
  };
  const expectRefused = async (s: StateStore, who: string) => {
    const second = await settle(lockOf(s)(key, 30_000));
    if (second.ok) {
      held.push(second.value);
      return fail(`${who} took the lock on "${key}" while it was held`);
    }
    const error = second.error;
    if (!isFaucetError(error) || error.code !== ErrorCodes.STATE_LOCKED) {
      return fail(
        `${who} was refused with ${describeError(error)}, not a FaucetError with code STATE_LOCKED`,
        error,
      );
    }
    if (!error.message.includes(key))
      fail(`the lock refusal does not name the key "${key}": ${error.message}`);
  };
  try {
    const release = await op(fail, 'lock()', () => lockOf(store)(key, 30_000));
    held.push(release);
    if (typeof release !== 'function') fail('lock() did not return a release function');
    await expectRefused(store, 'a second lock() on the same store');
    if (other) await expectRefused(other, 'a lock() from a second store instance');
    const otherKey = `${key}-other`;
    const releaseOther = await op(fail, 'lock() of another key while one is held', () =>
      lockOf(store)(otherKey, 30_000),
    );
    await op(fail, 'releasing the other key', () => releaseOther());

    await op(fail, 'release()', () => release());
    const again = await settle(lockOf(other ?? store)(key, 30_000));
    if (!again.ok) {
      return fail(
        `after release(), the lock on "${key}" could not be taken again: ${describeError(again.error)}`,
        again.error,
      );
    }
    held.push(again.value);
    await op(fail, 'a second call of the first release()', () => release());
    await expectRefused(store, 'after the first holder released twice, a lock()');
  } finally {
    for (const release of held) await settle(Promise.resolve().then(release));
    await closeStore(store);
    if (other) await closeStore(other);
  }
}

/** Rule state-durable: what one instance puts, another instance over the same storage reads. */
export async function assertStateDurable(check: StateStoreDurableCheck): Promise<void> {
  const fail = violation('state store', check.name, 'state-durable');
  const key = `${uniquePrefix('durable')}row-0`;
  const value: JsonObject = { v: 1, bookmark: { lsn: '0/16B3748' } };
  const first = await open(check.create, fail);
  try {
    await op(fail, 'put()', () => first.put(key, value));
  } finally {
    await closeStore(first);
  }
  const second = await open(check.reopen, fail);
  try {
    const got = await op(fail, 'get() from a second instance', () => second.get(key));
    if (!isDeepStrictEqual(got, value)) {
      fail(`a value put through one instance reads back as ${JSON.stringify(got)} through another`);
    }
    const listed = await op(fail, 'list() from a second instance', () => second.list(key));
    if (!listed.includes(key)) fail(`list() of a second instance does not show "${key}"`);
    await op(fail, 'delete() from the second instance', () => second.delete(key));
  } finally {
    await closeStore(second);
  }
  const third = await open(check.reopen, fail);
  try {
    const gone = await op(fail, 'get() after delete', () => third.get(key));
    if (gone !== undefined)
      fail(`a key deleted through one instance still reads ${JSON.stringify(gone)} through another`);
  } finally {
    await closeStore(third);
  }
}
