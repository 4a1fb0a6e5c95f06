/**
 * A JSON Lines encoder that writes bytes straight into one reusable Buffer: the hot path of every
 * file and object-store sink. Its output is byte for byte `JSON.stringify(record) + '\n'` in UTF-8
 * (the tests compare the two on awkward values), but it skips what that costs per record: one JS
 * string per record, the concatenation of those strings, and the UTF-8 conversion of the result.
 *
 * It specialises on a record shape it has seen: the keys of a record, in order, with their JSON
 * text (`{"id":`, `,"name":`) encoded to bytes once. A record whose own keys are that list (checked
 * with a for-in walk, which also sees inherited enumerable keys and then falls back) has its values
 * written one by one: ASCII and two-byte text character by character, escaping `"` and `\`;
 * numbers, booleans and null by hand; nested objects and arrays, and text with other characters,
 * through JSON.stringify of the value. Anything unusual — a toJSON method, an undefined or bigint
 * value, an object that is not a plain one — goes through JSON.stringify of the whole record, so the
 * bytes stay exactly what JSON.stringify makes.
 */
import type { FaucetRecord } from '@faucet/core';

const QUOTE = 34;
const BACKSLASH = 92;
const LINE_FEED = 10;
const CLOSE_BRACE = 125;
/** Distinct key lists kept at once (records of mixed shapes alternate between them). */
const MAX_SHAPES = 64;
/** What writeByShape returns instead of a position. */
const NO_ROOM = -1;
const NOT_THIS_SHAPE = -2;
const NEEDS_STRINGIFY = -3;

/** A key list with the JSON text before each value, as bytes. */
interface Shape {
  keys: string[];
  /** `{"a":` for the first key, `,"b":` for the others. */
  prefixes: Uint8Array[];
}

export interface JsonlEncoder {
  /**
   * Append `records` from index `from` (default 0), one JSON text and a line feed each; with
   * `untilBytes`, stop after the record that brings `size` to it. Returns the index of the first
   * record not encoded (`records.length` when all were), so a caller can write the bytes out and
   * go on: the buffer then stays near `untilBytes` however large the batch.
   */
  encode(records: readonly FaucetRecord[], from?: number, untilBytes?: number): number;
  /** Append text as it is (UTF-8). */
  appendText(text: string): void;
  /** Bytes appended since the last `take()`. */
  readonly size: number;
  /**
   * The bytes appended since the last `take()`, and start over. The Buffer is a view of the
   * encoder's own memory: use it (write it out) before the next `encode` or `appendText`. A buffer
   * that grew past 4 times its starting size (a huge record) is let go with the bytes returned.
   */
  take(): Buffer;
}

function shapeOf(keys: string[]): Shape {
  const prefixes = keys.map((key, i) => Buffer.from(`${i === 0 ? '{' : ','}${JSON.stringify(key)}:`, 'utf8'));
  return { keys, prefixes };
}

/** A record JSON.stringify would write as `{...}` from its own keys alone (no toJSON, no class). */
function isPlainRecord(record: unknown): record is FaucetRecord {
  if (typeof record !== 'object' || record === null) return false;
  const proto: unknown = Object.getPrototypeOf(record);
  return (
    (proto === Object.prototype || proto === null) &&
    typeof (record as { toJSON?: unknown }).toJSON !== 'function'
  );
}

/** The JSON text of a value inside a record, or undefined when only the whole record gets it right. */
function valueText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      // JSON.stringify calls toJSON with the key; only the whole record gets that right.
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
      try {
        return JSON.stringify(value);
      } catch {
        return undefined; // a cycle, a bigint: JSON.stringify of the record throws its own error
      }
    default:
      // undefined, a function or a symbol (the key is left out), a bigint (an error)
      return undefined;
  }
}

/**
 * Write `record` at `p` by `shape`: the position after its line feed, or NO_ROOM (grow and call
 * again), NOT_THIS_SHAPE, or NEEDS_STRINGIFY. Hot loop: locals only, ASCII text byte by byte.
 */
function writeByShape(record: FaucetRecord, shape: Shape, buf: Buffer, p: number): number {
  const { keys, prefixes } = shape;
  const n = keys.length;
  const room = buf.length;
  let i = 0;
  for (const key in record) {
    if (i >= n || key !== keys[i]) return NOT_THIS_SHAPE;
    const prefix = prefixes[i] as Uint8Array;
    const value = record[key];
    const start = p;
    if (typeof value === 'string') {
      const length = value.length;
      if (p + prefix.length + 2 * length + 4 > room) return NO_ROOM;
      for (let j = 0; j < prefix.length; j++) buf[p++] = prefix[j] as number;
      buf[p++] = QUOTE;
      let j = 0;
      for (; j < length; j++) {
        const c = value.charCodeAt(j);
        if (c >= 0x20 && c < 0x80) {
          if (c === QUOTE || c === BACKSLASH) buf[p++] = BACKSLASH;
          buf[p++] = c;
        } else if (c >= 0x80 && c < 0x800) {
          buf[p++] = 0xc0 | (c >> 6);
          buf[p++] = 0x80 | (c & 0x3f);
        } else {
          break; // a control character, three bytes, a surrogate: JSON.stringify of the value
        }
      }
      if (j === length) {
        buf[p++] = QUOTE;
        i++;
        continue;
      }
      p = start;
    }
    const text = valueText(value);
    if (text === undefined) return NEEDS_STRINGIFY;
    if (p + prefix.length + 3 * text.length + 2 > room) return NO_ROOM;
    for (let j = 0; j < prefix.length; j++) buf[p++] = prefix[j] as number;
    p += buf.write(text, p, 'utf8');
    i++;
  }
  if (i !== n) return NOT_THIS_SHAPE;
  if (p + 3 > room) return NO_ROOM;
  if (n === 0) buf[p++] = 123; // {
  buf[p++] = CLOSE_BRACE;
  buf[p++] = LINE_FEED;
  return p;
}

/**
 * A JSON Lines encoder. `initialBytes` sizes its buffer at the start (default 256 KiB); it grows as
 * needed and keeps its largest size.
 */
export function createJsonlEncoder(options: { initialBytes?: number } = {}): JsonlEncoder {
  const initialBytes = Math.max(1024, options.initialBytes ?? 256 * 1024);
  let buf = Buffer.allocUnsafeSlow(initialBytes);
  let pos = 0;
  const shapes = new Map<string, Shape>();
  let shape: Shape | undefined;

  /** A buffer of at least `size` bytes (at least twice the old one), the bytes so far copied. */
  const grow = (size: number): void => {
    const next = Buffer.allocUnsafeSlow(Math.max(buf.length * 2, size));
    buf.copy(next, 0, 0, pos);
    buf = next;
  };

  /** Room for `more` bytes after `pos`. */
  const ensure = (more: number): void => {
    if (pos + more > buf.length) grow(pos + more);
  };

  const shapeFor = (record: FaucetRecord): Shape => {
    const keys = Object.keys(record);
    const id = keys.join('\u0000');
    let found = shapes.get(id);
    if (!found) {
      if (shapes.size >= MAX_SHAPES) shapes.clear();
      found = shapeOf(keys);
      shapes.set(id, found);
    }
    return found;
  };

  const writeUtf8 = (text: string): void => {
    ensure(3 * text.length);
    pos += buf.write(text, pos, 'utf8');
  };

  /** One record by shape, growing the buffer as needed; false when it does not fit a shape. */
  const writeRecordByShape = (record: FaucetRecord): boolean => {
    let reshaped = false;
    for (;;) {
      shape ??= shapeFor(record);
      const end = writeByShape(record, shape, buf, pos);
      if (end >= 0) {
        pos = end;
        return true;
      }
      if (end === NEEDS_STRINGIFY) return false;
      if (end === NO_ROOM) {
        // The record did not fit what is left: double the buffer and write it again.
        grow(buf.length * 2);
        continue;
      }
      // Another shape: look it up once; a record that fits none has inherited enumerable keys.
      if (reshaped) return false;
      reshaped = true;
      shape = shapeFor(record);
    }
  };

  return {
    encode(records, from = 0, untilBytes = Number.POSITIVE_INFINITY) {
      for (let r = from; r < records.length; r++) {
        const record = records[r] as FaucetRecord;
        if (!(isPlainRecord(record) && writeRecordByShape(record))) writeUtf8(`${JSON.stringify(record)}\n`);
        if (pos >= untilBytes) return r + 1;
      }
      return records.length;
    },
    appendText(text) {
      writeUtf8(text);
    },
    get size() {
      return pos;
    },
    take() {
      const out = buf.subarray(0, pos);
      pos = 0;
      // `out` keeps the large buffer alive until it is written; the encoder starts small again.
      if (buf.length > 4 * initialBytes) buf = Buffer.allocUnsafeSlow(initialBytes);
      return out;
    },
  };
}
