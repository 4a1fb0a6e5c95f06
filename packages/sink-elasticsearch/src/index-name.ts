/**
 * The `index` setting: a fixed name, or a template filled from each record. `{field}` is the field's
 * value; `{date:field:format}` formats the field (an ISO 8601 string or epoch milliseconds) in UTC
 * with the tokens yyyy, yy, MM, dd, HH, mm, ss (`logs-{date:created_at:yyyy.MM}` → `logs-2024.05`).
 * A dotted field name is looked up as written first, then as a path into nested objects.
 */
import type { FaucetRecord, JsonValue } from '@faucet/core';

type Part =
  | { kind: 'text'; text: string }
  | { kind: 'field'; field: string }
  | { kind: 'date'; field: string; format: DateToken[] };

type DateToken = { kind: 'text'; text: string } | { kind: 'token'; token: (d: Date) => string };

export interface IndexName {
  /** The name when it has no placeholder. */
  fixed?: string;
  parts: Part[];
  /** Why the setting cannot work, for the config error. */
  problem?: string;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

const DATE_TOKENS: Record<string, (d: Date) => string> = {
  yyyy: (d) => pad(d.getUTCFullYear(), 4),
  yy: (d) => pad(d.getUTCFullYear() % 100),
  MM: (d) => pad(d.getUTCMonth() + 1),
  dd: (d) => pad(d.getUTCDate()),
  HH: (d) => pad(d.getUTCHours()),
  mm: (d) => pad(d.getUTCMinutes()),
  ss: (d) => pad(d.getUTCSeconds()),
};

function parseDateFormat(format: string): DateToken[] | string {
  const tokens: DateToken[] = [];
  let rest = format;
  while (rest.length > 0) {
    const token = Object.keys(DATE_TOKENS).find((t) => rest.startsWith(t));
    if (token) {
      tokens.push({ kind: 'token', token: DATE_TOKENS[token] as (d: Date) => string });
      rest = rest.slice(token.length);
    } else if (/^[A-Za-z]/.test(rest)) {
      return `unknown date token at "${rest}" (use yyyy, yy, MM, dd, HH, mm, ss)`;
    } else {
      tokens.push({ kind: 'text', text: rest[0] as string });
      rest = rest.slice(1);
    }
  }
  return tokens;
}

/** Why text cannot be (part of) an index name, or undefined. Checks what does not depend on a record. */
export function indexNameProblem(name: string, whole = true): string | undefined {
  if (/[\\/*?"<>|,# :]/.test(name)) return `"${name}" contains a character an index name cannot hold`;
  if (name !== name.toLowerCase()) return `"${name}" has upper-case letters; index names are lower case`;
  if (whole) {
    if (name === '.' || name === '..') return `"${name}" is not a valid index name`;
    if (/^[-_+]/.test(name)) return `"${name}" starts with -, _ or +`;
    if (Buffer.byteLength(name) > 255) return 'an index name is at most 255 bytes';
  }
  return undefined;
}

export function parseIndexName(template: string): IndexName {
  const parts: Part[] = [];
  const pattern = /\{([^{}]*)\}/g;
  let last = 0;
  for (const match of template.matchAll(pattern)) {
    if (match.index > last) parts.push({ kind: 'text', text: template.slice(last, match.index) });
    last = match.index + match[0].length;
    const inner = match[1] as string;
    if (inner.startsWith('date:')) {
      const rest = inner.slice('date:'.length);
      const colon = rest.lastIndexOf(':');
      const field = colon > 0 ? rest.slice(0, colon) : '';
      const format = colon > 0 ? parseDateFormat(rest.slice(colon + 1)) : 'missing';
      if (!field || typeof format === 'string') {
        return {
          parts,
          problem: `"{${inner}}": expected {date:<field>:<format>}${typeof format === 'string' && field ? `: ${format}` : ''}`,
        };
      }
      parts.push({ kind: 'date', field, format });
    } else if (inner.length === 0) {
      return { parts, problem: '"{}" names no field' };
    } else {
      parts.push({ kind: 'field', field: inner });
    }
  }
  if (last < template.length) parts.push({ kind: 'text', text: template.slice(last) });
  if (/[{}]/.test(parts.map((p) => (p.kind === 'text' ? p.text : '')).join(''))) {
    return { parts, problem: 'unbalanced { or } in the index name' };
  }
  const texts = parts.filter((p) => p.kind === 'text').map((p) => p.text);
  const first = parts[0];
  if (parts.length === 1 && first?.kind === 'text') {
    const problem = indexNameProblem(first.text);
    return problem ? { parts, problem } : { fixed: first.text, parts };
  }
  for (const text of texts) {
    const problem = indexNameProblem(text, false);
    if (problem) return { parts, problem };
  }
  return { parts };
}

/** A field's value: the key as written, else a dotted path into nested objects. */
export function fieldValue(record: FaucetRecord, field: string): JsonValue | undefined {
  if (field in record) return record[field];
  let current: JsonValue | undefined = record;
  for (const part of field.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = current[part];
  }
  return current;
}

export class IndexNameError extends Error {}

function dateOf(value: JsonValue | undefined, field: string): Date {
  const date =
    typeof value === 'number' ? new Date(value) : typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new IndexNameError(`field "${field}" is not a date (an ISO 8601 string or epoch milliseconds)`);
  }
  return date;
}

/** The index of one record. Throws IndexNameError when the record cannot name a valid index. */
export function resolveIndexName(name: IndexName, record: FaucetRecord): string {
  if (name.fixed !== undefined) return name.fixed;
  let out = '';
  for (const part of name.parts) {
    if (part.kind === 'text') {
      out += part.text;
      continue;
    }
    const value = fieldValue(record, part.field);
    if (part.kind === 'date') {
      const date = dateOf(value, part.field);
      for (const token of part.format) out += token.kind === 'text' ? token.text : token.token(date);
      continue;
    }
    if (value === undefined || value === null || typeof value === 'object') {
      throw new IndexNameError(`field "${part.field}" is missing, null or not a scalar`);
    }
    out += String(value);
  }
  const problem = indexNameProblem(out);
  if (problem) throw new IndexNameError(`the record names index ${problem}`);
  return out;
}

/** The wildcard pattern every name of a template matches (`logs-*`), for an index template. */
export function indexPattern(name: IndexName): string {
  return name.parts
    .map((p) => (p.kind === 'text' ? p.text : '*'))
    .join('')
    .replace(/\*+/g, '*');
}
