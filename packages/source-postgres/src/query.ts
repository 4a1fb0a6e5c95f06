/**
 * The SQL this source runs. Identifiers are quoted with pg's `escapeIdentifier`; every value is a
 * bind parameter, or, for COPY, a literal quoted with pg's `escapeLiteral`. A table or a user query is read as `SELECT * FROM <it> AS _faucet_q`, filtered by
 * the keyset predicate and ordered by the keyset columns.
 */
import { parseQualifiedName, quoteIdent, quoteQualified } from '@faucet/common-postgres';
import type { JsonValue } from '@faucet/core';
import pg from 'pg';

/** Where a read starts. */
export type StartPoint =
  | { type: 'beginning' }
  /** Strictly after this tuple of the keyset columns: `(c, pk…) > ($1, $2…)`. */
  | { type: 'after-key'; values: readonly JsonValue[] }
  /** Strictly after this cursor value (start_value, or a bare bookmark): `c > $1`. */
  | { type: 'after-cursor'; value: JsonValue }
  /** After the stored cursor minus a lookback window: `c > $1::type - $2::interval`. */
  | {
      type: 'lookback';
      value: JsonValue;
      cursorType: string;
      lookback: string | number;
      lookbackType: string;
    };

export interface ReadQuery {
  text: string;
  values: unknown[];
}

export const ALIAS = '_faucet_q';

/** A JSON value as a bind parameter: objects and arrays as JSON text, the rest as pg sends them. */
export function toParam(value: JsonValue): unknown {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
}

/**
 * A parameter value written into the SQL (COPY takes no bind parameters): what pg would send as a
 * text parameter of unknown type, as a quoted literal, which Postgres types from its context alike.
 */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  return pg.escapeLiteral(String(value));
}

/**
 * The query without its trailing semicolons. A small lexer skips string literals (`'…'`, `E'…'`),
 * quoted identifiers, dollar quotes (`$$…$$`, `$tag$…$tag$`) and comments, so a `;` inside them, or a
 * comment after the last `;`, is left alone.
 */
export function stripTrailingSemicolons(sql: string): string {
  const significant: number[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      let depth = 0;
      do {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      } while (i < n && depth > 0);
    } else if (c === "'" || c === '"') {
      const escapes = c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? '');
      i++;
      while (i < n) {
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === c && sql[i + 1] === c) i += 2;
        else if (sql[i] === c) break;
        else i++;
      }
      significant.push(i);
      i++;
    } else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 64))?.[0];
      if (tag) {
        const end = sql.indexOf(tag, i + tag.length);
        i = end < 0 ? n : end + tag.length;
        significant.push(i - 1);
      } else {
        significant.push(i);
        i++;
      }
    } else {
      if (!/\s/.test(c)) significant.push(i);
      i++;
    }
  }
  let last = significant.length - 1;
  let out = sql;
  while (last >= 0 && sql[significant[last] as number] === ';') {
    const at = significant[last] as number;
    out = `${out.slice(0, at)} ${out.slice(at + 1)}`;
    last--;
  }
  return out;
}

/** The FROM item for a table (`"s"."t"`) or a query (`(\n<query>\n)`, trailing semicolons removed). */
export function fromItem(source: { table: string } | { query: string }): string {
  if ('table' in source) return quoteQualified(parseQualifiedName(source.table));
  // Newlines keep a trailing `-- comment` in the user's query from swallowing our closing parenthesis.
  return `(\n${stripTrailingSemicolons(source.query).trim()}\n)`;
}

export function buildReadQuery(args: {
  from: string;
  params: readonly JsonValue[];
  /** Keyset columns: the ORDER BY, and the tuple of `after-key`. Empty: no order. */
  order: readonly string[];
  /** Incremental: the cursor column, whose NULLs are never read (they cannot be compared). */
  cursor?: string;
  start: StartPoint;
  /** Write the keyset values into the SQL as literals instead of bind parameters (for COPY). */
  inline?: boolean;
}): ReadQuery {
  if (args.inline && args.params.length > 0) throw new TypeError('a query with params cannot be inlined');
  const values: unknown[] = args.params.map(toParam);
  const col = (name: string) => `${ALIAS}.${quoteIdent(name)}`;
  const param = (value: unknown) => {
    if (args.inline) return sqlLiteral(value);
    values.push(value);
    return `$${values.length}`;
  };
  const where: string[] = [];
  if (args.cursor !== undefined) where.push(`${col(args.cursor)} IS NOT NULL`);
  const { start } = args;
  if (start.type === 'after-key') {
    if (start.values.length !== args.order.length) {
      throw new TypeError('a keyset start needs one value per keyset column');
    }
    const left = args.order.map(col).join(', ');
    const right = start.values.map((v) => param(toParam(v))).join(', ');
    where.push(args.order.length === 1 ? `${left} > ${right}` : `(${left}) > (${right})`);
  } else if (start.type === 'after-cursor' || start.type === 'lookback') {
    if (args.cursor === undefined) throw new TypeError('a cursor start needs a cursor column');
    if (start.type === 'after-cursor') {
      where.push(`${col(args.cursor)} > ${param(toParam(start.value))}`);
    } else {
      const from = `${param(toParam(start.value))}::${start.cursorType}`;
      const window = `${param(String(start.lookback))}::${start.lookbackType}`;
      where.push(`${col(args.cursor)} > (${from} - ${window})`);
    }
  }
  let text = `SELECT * FROM ${args.from} AS ${ALIAS}`;
  if (where.length > 0) text += ` WHERE ${where.join(' AND ')}`;
  if (args.order.length > 0) text += ` ORDER BY ${args.order.map(col).join(', ')}`;
  return { text, values };
}
