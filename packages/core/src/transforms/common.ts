/**
 * Helpers shared by the built-in transforms. Records come from JSON.parse and drivers, so they may
 * hold own keys such as `__proto__` or `constructor`: every lookup and write here goes through own-
 * property checks so those keys behave like any other key.
 */
import { TransformError } from '../errors.js';
import type { FaucetRecord, JsonObject, JsonValue } from '../types.js';

export const hasOwn = Object.hasOwn as (object: object, key: string) => boolean;

/** Assign `out[key] = value` as an own data property, even when key is `__proto__`. */
export function setOwn(out: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A short description of a value's type for error messages. Values may be personal data, so
 * messages name the type, never the value.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return value.trim() === '' ? 'an empty string' : 'a string';
    case 'number':
      return Number.isInteger(value) ? 'an integer' : 'a fractional number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}

/** Throws unless the record is a JSON object (a misbehaving source or transform can hand us anything). */
export function assertRecord(transformId: string, record: unknown): asserts record is FaucetRecord {
  if (!isJsonObject(record)) {
    throw new TransformError(
      `${transformId}: expected a record (a JSON object), got ${describeValue(record)}`,
    );
  }
}

/**
 * Shallow copy for transforms that only overwrite existing keys (spread is the fastest copy, and it
 * defines own properties, so a `__proto__` key stays a plain key). Do not add new keys to it: V8
 * then turns it into a slow dictionary-mode object.
 */
export function copyRecord(record: FaucetRecord): JsonObject {
  return { ...record };
}

/** Deep copy of a JSON value (config values handed to every record must not be shared). */
export function cloneJson(value: JsonValue): JsonValue {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out: JsonValue[] = new Array<JsonValue>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = cloneJson(value[i] as JsonValue);
    return out;
  }
  const out: JsonObject = {};
  for (const key of Object.keys(value)) setOwn(out, key, cloneJson(value[key] as JsonValue));
  return out;
}

/** Strict JSON equality: same type and same value; object key order does not matter. */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (!hasOwn(b, key) || !jsonEqual(a[key], b[key])) return false;
  return true;
}

/** Largest number of distinct keys a key-conversion cache holds before it starts over. */
export const KEY_CACHE_LIMIT = 10_000;

/**
 * Memoise a key conversion: the same few keys repeat on every record, and converting them (regex,
 * tokenizer) costs far more than a Map lookup. Bounded so records with unbounded key sets (ids used
 * as keys) cannot grow it forever; when full it is cleared, so the hot keys come back at once.
 */
export function cachedKeyConversion(
  convert: (key: string) => string,
  limit = KEY_CACHE_LIMIT,
): (key: string) => string {
  const cache = new Map<string, string>();
  return (key) => {
    let out = cache.get(key);
    if (out === undefined) {
      out = convert(key);
      if (cache.size >= limit) cache.clear();
      cache.set(key, out);
    }
    return out;
  };
}

/** `a.b[0].c` for error messages. */
export function formatRecordPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out;
}

/** A JSON-quoted key for messages, so empty keys and keys with spaces or quotes stay readable. */
export const quote = (key: string): string => JSON.stringify(key);
