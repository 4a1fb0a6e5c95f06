/**
 * Cursor values: reading them from records, ordering them, the strict `>` filter of a resumed
 * incremental read and the running max an unordered source saves as its bookmark.
 */
import { ConfigError } from '../errors.js';
import { silentLogger } from '../logger.js';
import type { FaucetRecord, JsonValue, Logger } from '../types.js';
import { compareIsoInstants, ISO_TIMESTAMP, parseIsoInstant } from './timestamps.js';

/** The values a cursor can order: numbers and strings (numeric, ISO-8601 or plain). */
export type CursorValue = string | number;

function assertCursorField(cursorField: string): void {
  if (typeof cursorField !== 'string' || !/^[^.]+(?:\.[^.]+)*$/.test(cursorField)) {
    throw new ConfigError([
      {
        path: 'cursor_field',
        message:
          'expected a field name or a dotted path such as "meta.updated_at", ' +
          `got ${JSON.stringify(cursorField)}`,
      },
    ]);
  }
}

type CursorGetter = (record: FaucetRecord) => JsonValue | undefined;

function step(value: JsonValue | undefined, segment: string): JsonValue | undefined {
  if (Array.isArray(value)) return /^\d+$/.test(segment) ? value[Number(segment)] : undefined;
  if (value !== null && typeof value === 'object' && Object.hasOwn(value, segment)) return value[segment];
  return undefined;
}

function cursorGetter(cursorField: string): CursorGetter {
  if (!cursorField.includes('.')) {
    return (record) => (Object.hasOwn(record, cursorField) ? record[cursorField] : undefined);
  }
  const segments = cursorField.split('.');
  return (record) => {
    // A flattened record may hold the dotted name as one key; that key wins over the path.
    if (Object.hasOwn(record, cursorField)) return record[cursorField];
    let value: JsonValue | undefined = record;
    for (const segment of segments) {
      value = step(value, segment);
      if (value === undefined) return undefined;
    }
    return value;
  };
}

/**
 * The value at `cursorField` in `record`: a key, or a dotted path through objects (and array
 * indexes, `items.0.ts`). A key that itself contains the dots wins. Undefined when absent.
 */
export function cursorValue(record: FaucetRecord, cursorField: string): JsonValue | undefined {
  return cursorGetter(cursorField)(record);
}

const INTEGER = /^-?\d+$/;
const PLAIN_DECIMAL = /^-?\d+(?:\.\d+)?$/;
const NUMERIC = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function sign(n: number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function negate(order: -1 | 0 | 1): -1 | 0 | 1 {
  return order === 0 ? 0 : order === 1 ? -1 : 1;
}

/** Exact order of two plain decimal strings (`-12.50`, `9007199254740993`). */
function compareDecimals(a: string, b: string): -1 | 0 | 1 {
  if (INTEGER.test(a) && INTEGER.test(b)) {
    const [x, y] = [BigInt(a), BigInt(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const parse = (s: string) => {
    const negative = s.startsWith('-');
    const [int = '', frac = ''] = (negative ? s.slice(1) : s).split('.');
    const digits = { int: int.replace(/^0+/, ''), frac: frac.replace(/0+$/, '') };
    const zero = digits.int === '' && digits.frac === '';
    return { negative: negative && !zero, ...digits };
  };
  const x = parse(a);
  const y = parse(b);
  if (x.negative !== y.negative) return x.negative ? -1 : 1;
  let magnitude: -1 | 0 | 1;
  if (x.int.length !== y.int.length) magnitude = x.int.length < y.int.length ? -1 : 1;
  else if (x.int !== y.int) magnitude = x.int < y.int ? -1 : 1;
  else {
    const width = Math.max(x.frac.length, y.frac.length);
    const [fx, fy] = [x.frac.padEnd(width, '0'), y.frac.padEnd(width, '0')];
    magnitude = fx === fy ? 0 : fx < fy ? -1 : 1;
  }
  return x.negative ? negate(magnitude) : magnitude;
}

/** Two numeric strings: exactly when both are plain decimals, else as doubles (`1e3`). */
function compareNumericStrings(a: string, b: string): -1 | 0 | 1 {
  if (PLAIN_DECIMAL.test(a) && PLAIN_DECIMAL.test(b)) return compareDecimals(a, b);
  return sign(Number(a) - Number(b));
}

/** A JSON number as a plain decimal string, or undefined when it needs an exponent. */
function plainDecimal(n: number): string | undefined {
  if (Number.isInteger(n)) return BigInt(n).toString();
  const text = String(n);
  return PLAIN_DECIMAL.test(text) ? text : undefined;
}

function compareStrings(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  if (NUMERIC.test(a) && NUMERIC.test(b)) return compareNumericStrings(a, b);
  const isoA = ISO_TIMESTAMP.exec(a);
  const isoB = isoA && ISO_TIMESTAMP.exec(b);
  if (isoA && isoB) {
    // Same layout and the same offset: the text sorts like the instant, no parsing needed.
    const sameShape = a.length === b.length && a.replace(/\d/g, '0') === b.replace(/\d/g, '0');
    if (!(sameShape && isoA[8] === isoB[8])) {
      const [x, y] = [parseIsoInstant(a), parseIsoInstant(b)];
      if (x && y) return compareIsoInstants(x, y);
    }
  }
  return a < b ? -1 : 1;
}

/**
 * Order two cursor values: negative, 0 or positive as `a` is before, equal to or after `b`, and
 * undefined when they cannot be ordered.
 *
 * - numbers: numerically.
 * - numeric strings (Postgres int8 / numeric arrive as strings): exactly, as numbers; integer strings
 *   as BigInt. A numeric string and a number are compared the same way (`"10"` > `9`).
 * - ISO-8601 timestamps: as text when both have the same layout and offset; otherwise as instants
 *   with full fractional precision (`…00Z` equals `…00.000Z` and `…02:00+02:00`). No offset = UTC.
 * - other strings: by UTF-16 code units.
 * - a number and a non-numeric string, booleans, null, objects, arrays: undefined.
 */
export function compareCursor(a: JsonValue | undefined, b: JsonValue | undefined): -1 | 0 | 1 | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === b) return 0;
    return Number.isNaN(a) || Number.isNaN(b) ? undefined : a < b ? -1 : 1;
  }
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'number' && typeof b === 'string') {
    const order = compareNumberWithString(a, b);
    return order === undefined ? undefined : negate(order);
  }
  if (typeof a === 'string' && typeof b === 'number') return compareNumberWithString(b, a);
  return undefined;
}

/** Order of `text` relative to `n` (positive: text is greater), undefined when text is not a number. */
function compareNumberWithString(n: number, text: string): -1 | 0 | 1 | undefined {
  if (!NUMERIC.test(text) || !Number.isFinite(n)) return undefined;
  const decimal = plainDecimal(n);
  if (decimal !== undefined && PLAIN_DECIMAL.test(text)) return compareDecimals(text, decimal);
  return sign(Number(text) - n);
}

function isCursorValue(value: JsonValue | undefined): value is CursorValue {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function describeType(value: JsonValue | undefined): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function assertStartValue(cursorField: string, value: JsonValue | undefined, what: string): void {
  if (value === undefined || value === null || isCursorValue(value)) return;
  throw new ConfigError(
    `the ${what} for cursor field "${cursorField}" must be a string or a number, ` +
      `got ${describeType(value)}; ` +
      'if the stored bookmark has a different shape, the source changed: delete its state to start over',
  );
}

export interface CursorFilterStats {
  /** Records newer than the start value, plus incomparable ones. */
  kept: number;
  /** Records at or before the start value. */
  notNewer: number;
  /** Records without the cursor field (dropped). */
  missing: number;
  /** Records whose cursor cannot be ordered against the start value (kept). */
  incomparable: number;
}

export type CursorFilter = ((record: FaucetRecord) => boolean) & {
  readonly stats: Readonly<CursorFilterStats>;
};

export interface CursorFilterOptions {
  cursorField: string;
  /** The bookmark or start value; undefined or null keeps every record. */
  after: JsonValue | undefined;
  logger?: Logger;
}

/**
 * A predicate keeping records whose cursor is strictly greater than `after`. Records without the
 * cursor field are dropped; records whose cursor cannot be ordered against `after` (another type,
 * null) are kept, so no data is lost. Each case is logged once as a warning; `stats` counts them.
 */
export function createCursorFilter(options: CursorFilterOptions): CursorFilter {
  const { cursorField, after } = options;
  assertCursorField(cursorField);
  assertStartValue(cursorField, after, 'start value');
  const logger = options.logger ?? silentLogger;
  const get = cursorGetter(cursorField);
  const stats: CursorFilterStats = { kept: 0, notNewer: 0, missing: 0, incomparable: 0 };
  const filter = (record: FaucetRecord): boolean => {
    if (after === undefined || after === null) {
      stats.kept += 1;
      return true;
    }
    const value = get(record);
    if (value === undefined) {
      stats.missing += 1;
      if (stats.missing === 1) {
        logger.warn('records without the cursor field are skipped', { cursor_field: cursorField });
      }
      return false;
    }
    const order = compareCursor(value, after);
    if (order === undefined) {
      stats.incomparable += 1;
      stats.kept += 1;
      if (stats.incomparable === 1) {
        logger.warn('records whose cursor cannot be compared with the start value are kept', {
          cursor_field: cursorField,
          value_type: describeType(value),
          start_type: describeType(after),
        });
      }
      return true;
    }
    if (order > 0) {
      stats.kept += 1;
      return true;
    }
    stats.notNewer += 1;
    return false;
  };
  return Object.assign(filter, { stats: stats as Readonly<CursorFilterStats> });
}

export interface RunningMax {
  /** Take the record's cursor into account; records without one, or with an unorderable one, are ignored. */
  observe(record: FaucetRecord): void;
  /** The greatest cursor seen, or the initial value; undefined when neither exists. */
  readonly value: CursorValue | undefined;
}

export interface RunningMaxOptions {
  cursorField: string;
  /** The bookmark the run started from: the max never goes below it. */
  initial?: JsonValue | undefined;
  logger?: Logger;
}

/**
 * The greatest cursor value seen so far. Unordered sources (most REST APIs) emit it as the bookmark of
 * their final page. Of equal values (`…00Z`, `…00.000Z`) the first one seen is kept.
 */
export function createRunningMax(options: RunningMaxOptions): RunningMax {
  const { cursorField } = options;
  assertCursorField(cursorField);
  assertStartValue(cursorField, options.initial, 'initial value');
  const logger = options.logger ?? silentLogger;
  const get = cursorGetter(cursorField);
  let max: CursorValue | undefined = isCursorValue(options.initial) ? options.initial : undefined;
  let warned = false;
  return {
    observe(record: FaucetRecord): void {
      const value = get(record);
      if (value === undefined) return;
      const order = isCursorValue(value) ? (max === undefined ? 1 : compareCursor(value, max)) : undefined;
      if (order === undefined) {
        if (!warned) {
          warned = true;
          logger.warn('cursor values that cannot be ordered are left out of the bookmark', {
            cursor_field: cursorField,
            value_type: describeType(value),
          });
        }
        return;
      }
      if (order > 0) max = value as CursorValue;
    },
    get value() {
      return max;
    },
  };
}
