/**
 * `cast`: convert top-level fields to int, float, bool, string or timestamp. A missing field stays
 * missing and a null stays null: there is no value to convert.
 */
import { z } from 'zod';
import { defineTransform } from '../define.js';
import { TransformError } from '../errors.js';
import type { JsonValue } from '../types.js';
import { assertRecord, copyRecord, describeValue, hasOwn, quote, setOwn } from './common.js';
import { parseTimestamp } from './timestamp.js';

export const CAST_TARGETS = ['int', 'float', 'bool', 'string', 'timestamp'] as const;
export type CastTarget = (typeof CAST_TARGETS)[number];

export const castConfigSchema = z.strictObject({
  fields: z
    .record(z.string(), z.enum(CAST_TARGETS))
    .refine((v) => Object.keys(v).length > 0, 'list at least one field'),
  // YAML reads a bare `on_error: null` as null, not as the string "null"; both mean the same.
  on_error: z
    .union([z.enum(['error', 'null', 'skip']), z.null()], {
      error: 'expected one of "error", "null", "skip"',
    })
    .default('error')
    .transform((mode) => mode ?? 'null'),
});
export type CastConfig = z.infer<typeof castConfigSchema>;

/** A caster returns the converted value, or undefined when the value cannot be converted. */
type Caster = (value: JsonValue) => JsonValue | undefined;

const INTEGER_LITERAL = /^[+-]?\d+(?:\.0*)?$/;
const NUMBER_LITERAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOLEAN_WORDS = new Map<string, boolean>([
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
  ['yes', true],
  ['no', false],
]);
/** The Date range of ECMAScript, in epoch milliseconds. */
const MAX_EPOCH_MS = 8.64e15;

/** `+007.00` -> `7`, `-0` -> `0`: the canonical digits of an integer literal. */
function canonicalInteger(literal: string): string {
  const negative = literal.startsWith('-');
  const digits = literal
    .replace(/^[+-]/, '')
    .replace(/\..*$/, '')
    .replace(/^0+(?=\d)/, '');
  return negative && digits !== '0' ? `-${digits}` : digits;
}

const toInt: Caster = (value) => {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (INTEGER_LITERAL.test(text)) {
    const n = Number(text);
    // Integers past 2^53 cannot be JS numbers without changing their value; records carry them as
    // strings (see FaucetRecord), so the cast keeps the exact digits.
    return Number.isSafeInteger(n) ? n : canonicalInteger(text);
  }
  if (!NUMBER_LITERAL.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
};

const toFloat: Caster = (value) => {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (!NUMBER_LITERAL.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
};

const toBool: Caster = (value) => {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
  if (typeof value !== 'string') return undefined;
  return BOOLEAN_WORDS.get(value.trim().toLowerCase());
};

const toText: Caster = (value) => {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
};

const toTimestamp: Caster = (value) => {
  let ms: number;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string') ms = parseTimestamp(value);
  else return undefined;
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_EPOCH_MS) return undefined;
  return new Date(ms).toISOString();
};

const CASTERS: Readonly<Record<CastTarget, Caster>> = {
  int: toInt,
  float: toFloat,
  bool: toBool,
  string: toText,
  timestamp: toTimestamp,
};

/** Why a value could not be cast: a hint for the message that never repeats the value. */
function reason(value: JsonValue, target: CastTarget): string {
  if (target === 'int' && typeof value === 'number') return ' (it has a fractional part)';
  if (target === 'int' && typeof value === 'string' && NUMBER_LITERAL.test(value.trim())) {
    return ' (it is not a whole number, or too large to convert exactly)';
  }
  if (target === 'bool' && (typeof value === 'string' || typeof value === 'number')) {
    return ' (accepted: true/false, 1/0, yes/no)';
  }
  if (target === 'timestamp' && typeof value === 'string') {
    return ' (expected an ISO-8601 or RFC 2822 date, or epoch milliseconds)';
  }
  if (target === 'timestamp' && typeof value === 'number') return ' (out of the representable date range)';
  return '';
}

export const castTransform = defineTransform<CastConfig>({
  id: 'cast',
  description: 'Convert top-level fields to int, float, bool, string or timestamp',
  configSchema: castConfigSchema,
  create(config) {
    const plan = Object.entries(config.fields).map(([field, target]) => ({
      field,
      target,
      cast: CASTERS[target],
    }));
    const onError = config.on_error;
    return (record) => {
      assertRecord('cast', record);
      const out = copyRecord(record);
      for (const step of plan) {
        if (!hasOwn(record, step.field)) continue;
        const value = record[step.field] as JsonValue;
        if (value === null) continue;
        const cast = step.cast(value);
        if (cast !== undefined) {
          setOwn(out, step.field, cast);
        } else if (onError === 'null') {
          setOwn(out, step.field, null);
        } else if (onError === 'skip') {
          return null;
        } else {
          throw new TransformError(
            `cast: field ${quote(step.field)} holds ${describeValue(value)} that cannot be cast to ` +
              `${step.target}${reason(value, step.target)}`,
          );
        }
      }
      return out;
    };
  },
});
