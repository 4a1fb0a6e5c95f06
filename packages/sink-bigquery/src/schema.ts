/**
 * Table schemas: BigQuery's field list (`tables.get` / `tables.insert`), the column map the value
 * conversion walks, and the schema inferred from records when faucet creates a table or adds columns.
 *
 * Inference looks at every value of a field in the page: JSON booleans become BOOL, integers INT64,
 * other numbers FLOAT64; strings that are exact numbers (Postgres int8 and numeric arrive as strings)
 * become INT64, NUMERIC or BIGNUMERIC by their digits, never FLOAT64; RFC 3339 timestamps become
 * TIMESTAMP and `YYYY-MM-DD` DATE; objects and arrays become JSON, or RECORD / REPEATED columns when
 * `nested_as: record`. A field whose values disagree becomes STRING (JSON when one is nested).
 */

/** A field as the REST API spells it. */
export interface TableField {
  name: string;
  type: string;
  mode?: string;
  description?: string;
  fields?: TableField[];
}

/** A field with its type normalised (INTEGER → INT64, FLOAT → FLOAT64, BOOLEAN → BOOL, STRUCT → RECORD). */
export interface Column {
  name: string;
  type: string;
  repeated: boolean;
  required: boolean;
  /** Sub-columns of a RECORD, by name. */
  fields?: Map<string, Column>;
}

const ALIASES: Record<string, string> = {
  INTEGER: 'INT64',
  FLOAT: 'FLOAT64',
  BOOLEAN: 'BOOL',
  STRUCT: 'RECORD',
};

export function normaliseType(type: string): string {
  const upper = type.toUpperCase();
  return ALIASES[upper] ?? upper;
}

export function toColumns(fields: readonly TableField[]): Map<string, Column> {
  const out = new Map<string, Column>();
  for (const f of fields) {
    const type = normaliseType(f.type);
    const column: Column = {
      name: f.name,
      type,
      repeated: f.mode === 'REPEATED',
      required: f.mode === 'REQUIRED',
    };
    if (type === 'RECORD') column.fields = toColumns(f.fields ?? []);
    out.set(f.name, column);
  }
  return out;
}

export interface InferOptions {
  nestedAs: 'json' | 'record';
  numericStrings: boolean;
}

type Kind =
  | 'bool'
  | 'int'
  | 'float'
  | 'int-str'
  | 'num-str'
  | 'bignum-str'
  | 'ts-str'
  | 'date-str'
  | 'str'
  | 'object'
  | 'array';

const INT_TEXT = /^-?(0|[1-9]\d*)$/;
const DECIMAL_TEXT = /^-?(0|[1-9]\d*)\.(\d+)$/;
const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** NUMERIC holds 29 digits before the point and 9 after; BIGNUMERIC 38 and 38. */
function decimalKind(intDigits: number, fracDigits: number): Kind {
  if (intDigits <= 29 && fracDigits <= 9) return 'num-str';
  if (intDigits <= 38 && fracDigits <= 38) return 'bignum-str';
  return 'str';
}

function stringKind(text: string, numeric: boolean): Kind {
  if (numeric) {
    if (INT_TEXT.test(text)) {
      const value = BigInt(text);
      if (value >= INT64_MIN && value <= INT64_MAX) return 'int-str';
      return decimalKind(text.replace('-', '').length, 0);
    }
    const decimal = DECIMAL_TEXT.exec(text);
    if (decimal) return decimalKind((decimal[1] as string).length, (decimal[2] as string).length);
  }
  if (TIMESTAMP_TEXT.test(text)) return 'ts-str';
  if (DATE_TEXT.test(text)) return 'date-str';
  return 'str';
}

function kindOf(value: unknown, numeric: boolean): Kind | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') {
    return Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER ? 'int' : 'float';
  }
  if (typeof value === 'string') return stringKind(value, numeric);
  return Array.isArray(value) ? 'array' : 'object';
}

const NUMERIC_FAMILY = new Set<Kind>(['int', 'float', 'int-str', 'num-str', 'bignum-str']);

/** The one type that holds every scalar kind seen. */
function scalarType(kinds: ReadonlySet<Kind>): string {
  if (kinds.size === 0) return 'STRING';
  const all = (...allowed: Kind[]) => [...kinds].every((k) => allowed.includes(k));
  if (all('bool')) return 'BOOL';
  if ([...kinds].every((k) => NUMERIC_FAMILY.has(k))) {
    if (kinds.has('float')) return 'FLOAT64';
    if (kinds.has('bignum-str')) return 'BIGNUMERIC';
    if (kinds.has('num-str')) return 'NUMERIC';
    return 'INT64';
  }
  if (all('ts-str')) return 'TIMESTAMP';
  if (all('date-str')) return 'DATE';
  return 'STRING';
}

/** The field for all the values one name takes in a page (nulls ignored). */
function inferField(name: string, values: readonly unknown[], options: InferOptions): TableField {
  const kinds = new Set<Kind>();
  for (const v of values) {
    const kind = kindOf(v, options.numericStrings);
    if (kind !== undefined) kinds.add(kind);
  }
  const nested = kinds.has('object') || kinds.has('array');
  if (!nested) return { name, type: scalarType(kinds), mode: 'NULLABLE' };
  if (options.nestedAs === 'json' || kinds.size > 1) return { name, type: 'JSON', mode: 'NULLABLE' };
  const present = values.filter((v) => v !== null && v !== undefined);
  if (kinds.has('object')) {
    const fields = inferFields(present as Record<string, unknown>[], options);
    return fields.length > 0
      ? { name, type: 'RECORD', mode: 'NULLABLE', fields }
      : { name, type: 'JSON', mode: 'NULLABLE' };
  }
  return repeatedField(name, present as unknown[][], options);
}

/** An array field: REPEATED of its elements' type, or JSON when they nest arrays, mix kinds or hold nulls. */
function repeatedField(name: string, arrays: readonly unknown[][], options: InferOptions): TableField {
  const elements = arrays.flat();
  if (elements.some((e) => e === null || e === undefined || Array.isArray(e))) {
    return { name, type: 'JSON', mode: 'NULLABLE' };
  }
  const element = inferField(name, elements, options);
  if (element.type === 'JSON') return { name, type: 'JSON', mode: 'NULLABLE' };
  return { ...element, mode: 'REPEATED' };
}

/** Fields for every name in the records, in first-seen order. */
export function inferFields(
  records: readonly Record<string, unknown>[],
  options: InferOptions,
  only?: ReadonlySet<string>,
): TableField[] {
  const values = new Map<string, unknown[]>();
  for (const record of records) {
    for (const [name, value] of Object.entries(record)) {
      if (value === undefined || (only && !only.has(name))) continue;
      let list = values.get(name);
      if (!list) {
        list = [];
        values.set(name, list);
      }
      list.push(value);
    }
  }
  return [...values].map(([name, list]) => inferField(name, list, options));
}

/** `p.d.t` in backticks, for SQL. */
export function quotedTable(project: string, dataset: string, table: string): string {
  return `\`${project}.${dataset}.${table}\``;
}

/** A column name in backticks (BigQuery names never contain one). */
export function quoteColumn(name: string): string {
  return `\`${name.replace(/`/g, '\\`')}\``;
}
