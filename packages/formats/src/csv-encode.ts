/**
 * Records to CSV (or TSV) text. The columns are the keys of the first batch in first-seen order
 * (or given, e.g. read from the file being appended to); a record missing a column gets an empty
 * cell. A key that is not a column is an error by default (`on_unknown_field: error`), because
 * dropping it would lose data silently; `ignore` drops such keys.
 */
import type { FaucetRecord, JsonValue } from '@faucet/core';
import { ConfigError } from '@faucet/core';
import { EncodeError } from './errors.js';

export type UnknownFieldPolicy = 'error' | 'ignore';

export interface CsvEncoderOptions {
  /** Field separator, one character (default `,`; TSV: tab). */
  delimiter?: string;
  /** Quote character (default `"`). */
  quote?: string;
  /** Write a header row before the first record (default true). */
  header?: boolean;
  /** The columns, when known in advance; otherwise the keys of the first batch. */
  columns?: readonly string[];
  /** What to do with a key that is not a column (default `error`). */
  onUnknownField?: UnknownFieldPolicy;
  /** Line ending (default `\n`). */
  lineEnding?: '\n' | '\r\n';
  /** Output name for errors, usually the file path. */
  name?: string;
  /**
   * `csv` (default): RFC 4180 quoting. `tsv`: no quoting; tab, CR, LF and backslash in values are
   * written as `\t`, `\r`, `\n`, `\\` (the text format of PostgreSQL COPY and most TSV readers).
   */
  style?: 'csv' | 'tsv';
}

export interface CsvEncoder {
  /** Text for these records; the first call also carries the header row when one is written. */
  encode(records: readonly FaucetRecord[]): string;
  /** The columns, once known (after the first non-empty batch, or from the options). */
  readonly columns: readonly string[] | undefined;
}

function escapeRegExp(char: string): string {
  return char.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** The keys of `records` in first-seen order. */
export function columnsOf(records: readonly FaucetRecord[]): string[] {
  const seen = new Set<string>();
  for (const record of records) for (const key of Object.keys(record)) seen.add(key);
  return [...seen];
}

export function createCsvEncoder(options: CsvEncoderOptions = {}): CsvEncoder {
  const style = options.style ?? 'csv';
  const delimiter = options.delimiter ?? (style === 'tsv' ? '\t' : ',');
  const quote = options.quote ?? '"';
  for (const [path, value] of [
    ['delimiter', delimiter],
    ['quote', quote],
  ] as const) {
    if (value.length !== 1 || value === '\n' || value === '\r') {
      throw new ConfigError([
        { path, message: `expected one character (not a line break), got ${JSON.stringify(value)}` },
      ]);
    }
  }
  const eol = options.lineEnding ?? '\n';
  const policy = options.onUnknownField ?? 'error';
  const name = options.name ?? 'output';
  const needsQuotes = new RegExp(`[${escapeRegExp(delimiter)}${escapeRegExp(quote)}\\r\\n]`);
  const doubled = new RegExp(escapeRegExp(quote), 'g');
  const quoteTwice = quote + quote;
  const TSV_SPECIAL = /[\t\r\n\\]/;
  const TSV_ESCAPES: Record<string, string> = { '\t': '\\t', '\r': '\\r', '\n': '\\n', '\\': '\\\\' };

  const text =
    style === 'tsv'
      ? (s: string): string =>
          TSV_SPECIAL.test(s) ? s.replace(/[\t\r\n\\]/g, (c) => TSV_ESCAPES[c] ?? c) : s
      : (s: string): string => {
          // An empty string is quoted so it reads back differently from a null (an empty cell).
          if (s === '') return quoteTwice;
          return needsQuotes.test(s) ? quote + s.replace(doubled, quoteTwice) + quote : s;
        };
  const cell = (value: JsonValue | undefined): string => {
    if (value === null || value === undefined) return '';
    switch (typeof value) {
      case 'string':
        return text(value);
      case 'number':
      case 'boolean':
        return String(value);
      default:
        return text(JSON.stringify(value));
    }
  };

  let columns: string[] | undefined = options.columns ? [...options.columns] : undefined;
  let columnSet = new Set(columns);
  let headerPending = options.header ?? true;

  const unknownField = (record: FaucetRecord): never => {
    const extra = Object.keys(record).filter((key) => !columnSet.has(key));
    const shown = (columns ?? []).slice(0, 8).join(', ');
    const more = (columns?.length ?? 0) > 8 ? ', …' : '';
    throw new EncodeError(
      `field ${JSON.stringify(extra[0])} is not one of the CSV columns (${shown}${more}), which come from ` +
        'the first batch written (or the existing header); set on_unknown_field: ignore to drop such ' +
        'fields, or select the fields with a transform',
      { name },
    );
  };

  return {
    get columns() {
      return columns;
    },
    encode(records) {
      if (records.length === 0) return '';
      if (columns === undefined) {
        columns = columnsOf(records);
        columnSet = new Set(columns);
      }
      const cols = columns;
      const width = cols.length;
      let out = '';
      if (headerPending) {
        headerPending = false;
        out += cols.map((c) => text(c)).join(delimiter) + eol;
      }
      for (const record of records) {
        let line = '';
        let present = 0;
        for (let i = 0; i < width; i++) {
          const value = record[cols[i] as string];
          if (value !== undefined) present++;
          line += i === 0 ? cell(value) : delimiter + cell(value);
        }
        if (policy === 'error') {
          // More keys than columns found means a key outside the header.
          let keys = 0;
          for (const _ in record) keys++;
          if (keys !== present) unknownField(record);
        }
        out += line + eol;
      }
      return out;
    },
  };
}
