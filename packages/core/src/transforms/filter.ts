/** `filter`: keep the records whose value at a dotted path passes a test; drop the others. */
import { z } from 'zod';
import { defineTransform } from '../define.js';
import { ConfigError } from '../errors.js';
import type { FaucetRecord, JsonObject, JsonPrimitive, JsonValue } from '../types.js';
import { assertRecord, hasOwn, jsonEqual } from './common.js';

export const FILTER_OPS = [
  'eq',
  'ne',
  'exists',
  'not_exists',
  'in',
  'not_in',
  'gt',
  'gte',
  'lt',
  'lte',
] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

const NO_VALUE_OPS: ReadonlySet<FilterOp> = new Set(['exists', 'not_exists']);
const LIST_OPS: ReadonlySet<FilterOp> = new Set(['in', 'not_in']);
const ORDER_OPS: ReadonlySet<FilterOp> = new Set(['gt', 'gte', 'lt', 'lte']);

/** The problem with `value` for this op, or undefined when it fits. */
function valueProblem(op: FilterOp, value: unknown): string | undefined {
  if (NO_VALUE_OPS.has(op)) return value === undefined ? undefined : `not used with op "${op}"; remove it`;
  if (value === undefined) return `required for op "${op}"`;
  if (LIST_OPS.has(op) && !Array.isArray(value)) return `must be a list for op "${op}"`;
  if (ORDER_OPS.has(op) && typeof value !== 'number' && typeof value !== 'string') {
    return `must be a number or a string for op "${op}"`;
  }
  return undefined;
}

export const filterConfigSchema = z
  .strictObject({
    path: z.string().min(1),
    op: z.enum(FILTER_OPS),
    value: z.json().optional(),
  })
  .superRefine((config, ctx) => {
    const problem = valueProblem(config.op, config.value);
    if (problem) ctx.addIssue({ code: 'custom', path: ['value'], message: problem });
  });
export type FilterConfig = z.infer<typeof filterConfigSchema>;

interface PathStep {
  key: string;
  /** The key as an array index, or -1 when it is not a whole number. */
  index: number;
}

function parsePath(path: string): PathStep[] {
  return path.split('.').map((key) => ({ key, index: /^\d+$/.test(key) ? Number(key) : -1 }));
}

/** The value at `steps`, or undefined when any step is missing. Numeric steps index arrays. */
function lookup(record: FaucetRecord, steps: readonly PathStep[]): JsonValue | undefined {
  let current: JsonValue = record;
  for (const step of steps) {
    if (Array.isArray(current)) {
      if (step.index < 0 || step.index >= current.length) return undefined;
      current = current[step.index] as JsonValue;
    } else if (typeof current === 'object' && current !== null && hasOwn(current, step.key)) {
      current = (current as JsonObject)[step.key] as JsonValue;
    } else {
      return undefined;
    }
  }
  return current;
}

type Test = (found: JsonValue | undefined) => boolean;

function isPrimitive(value: JsonValue): value is JsonPrimitive {
  return typeof value !== 'object' || value === null;
}

/** The per-record test, built once: a missing path arrives as undefined. */
function buildTest(op: FilterOp, expected: JsonValue | undefined): Test {
  switch (op) {
    case 'exists':
      return (found) => found !== undefined;
    case 'not_exists':
      return (found) => found === undefined;
    case 'eq':
    case 'ne': {
      const value = expected as JsonValue;
      const equal: Test = isPrimitive(value)
        ? (found) => found === value
        : (found) => found !== undefined && jsonEqual(found, value);
      return op === 'eq' ? equal : (found) => found === undefined || !equal(found);
    }
    case 'in':
    case 'not_in': {
      const list = expected as JsonValue[];
      // Set membership is strict (1 and "1" differ), which is JSON equality for primitives.
      const primitives = new Set(list.filter(isPrimitive));
      const composites = list.filter((v) => !isPrimitive(v));
      const member: Test = (found) => {
        if (found === undefined) return false;
        if (isPrimitive(found)) return primitives.has(found);
        for (const candidate of composites) if (jsonEqual(found, candidate)) return true;
        return false;
      };
      return op === 'in' ? member : (found) => found === undefined || !member(found);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const bound = expected as number | string;
      const kind = typeof bound;
      const compare = {
        gt: (a: number | string) => a > bound,
        gte: (a: number | string) => a >= bound,
        lt: (a: number | string) => a < bound,
        lte: (a: number | string) => a <= bound,
      }[op];
      // Numbers compare with numbers, strings with strings; anything else (incl. missing) fails.
      return (found) => typeof found === kind && compare(found as number | string);
    }
  }
}

export const filterTransform = defineTransform<FilterConfig>({
  id: 'filter',
  description: 'Keep only records whose value at a dotted path passes a test (eq, ne, in, gt, exists, ...)',
  configSchema: filterConfigSchema,
  create(config) {
    const problem = valueProblem(config.op, config.value);
    if (problem) {
      throw new ConfigError([{ path: 'value', message: problem }], {
        context: 'invalid config for transform "filter"',
      });
    }
    const steps = parsePath(config.path);
    const test = buildTest(config.op, config.value as JsonValue | undefined);
    // The record passes through unchanged: a filter decides, it does not copy.
    return (record) => {
      assertRecord('filter', record);
      return test(lookup(record, steps)) ? record : null;
    };
  },
});
