/** SQL identifiers: quoting with pg's `escapeIdentifier`, and parsing a `table` or `schema.table` name. */
import { ConfigError } from '@faucet/core';
import pg from 'pg';

export const quoteIdent = (name: string): string => pg.escapeIdentifier(name);

/**
 * `sales.orders` → `["sales", "orders"]`; `"my.schema"."Orders"` → `["my.schema", "Orders"]`. Names
 * are taken exactly as written (no lower-casing); double quotes are needed only around a dot.
 */
export function parseQualifiedName(text: string, path = 'table'): string[] {
  const parts: string[] = [];
  let i = 0;
  const bad = (why: string): never => {
    throw new ConfigError([{ path, message: `${why} in ${JSON.stringify(text)}` }]);
  };
  while (i <= text.length) {
    let part = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) bad('unterminated quoted name');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += text[i];
        i++;
      }
    } else {
      const dot = text.indexOf('.', i);
      const end = dot < 0 ? text.length : dot;
      part = text.slice(i, end);
      if (part.includes('"')) bad('a quote inside an unquoted name');
      i = end;
    }
    if (part === '') bad('an empty name');
    parts.push(part);
    if (i === text.length) break;
    if (text[i] !== '.') bad('expected "." after a quoted name');
    i++;
  }
  if (parts.length > 2) bad('expected table or schema.table');
  return parts;
}

/** `["my.schema", "Orders"]` → `"my.schema"."Orders"`. */
export function quoteQualified(parts: readonly string[]): string {
  return parts.map(quoteIdent).join('.');
}
