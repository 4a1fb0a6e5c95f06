/**
 * The bookmark this source stores, and how a stored one becomes a start point.
 *
 * - Incremental: `{kind: "keyset", columns: [cursor, pk…], after: [v, …]}` — the last row read.
 * - FullTable with primary keys: `{kind: "full_table", columns: [pk…], after: [v, …]}` inside a pass,
 *   `{kind: "full_table", columns: [pk…], completed: true}` on the last page (the next run starts over).
 * - FullTable without primary keys: `{kind: "full_table", columns: [], completed: true}` on the last
 *   page only.
 * - `table` names the table read (absent for a `query`), so a bookmark of another table is refused.
 */
import { ConfigError, type JsonObject, type JsonValue } from '@faucet/core';
import type { StartPoint } from './query.js';

export type BookmarkKind = 'keyset' | 'full_table';

export interface Keyset {
  kind: BookmarkKind;
  /** The keyset columns in ORDER BY order. */
  columns: readonly string[];
  table?: string;
}

export function keysetBookmark(keyset: Keyset, after: readonly JsonValue[]): JsonObject {
  return {
    kind: keyset.kind,
    ...(keyset.table === undefined ? {} : { table: keyset.table }),
    columns: [...keyset.columns],
    after: [...after],
  };
}

export function completedBookmark(keyset: Keyset): JsonObject {
  return {
    kind: keyset.kind,
    ...(keyset.table === undefined ? {} : { table: keyset.table }),
    columns: [...keyset.columns],
    completed: true,
  };
}

const isObject = (v: JsonValue | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function sameColumns(a: readonly JsonValue[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

const RESET_HINT = 'delete the state of this pipeline row (`faucet state delete <key>`) to start over';

/**
 * Where a run starts, from the stored bookmark: strictly after its tuple, or from the beginning when
 * a FullTable pass was completed. A bare string or number (written by hand) is a cursor value.
 * A bookmark of another kind, table or key refuses to run rather than skip or repeat rows.
 */
export function startFromBookmark(stored: JsonValue, keyset: Keyset): StartPoint {
  if (typeof stored === 'string' || typeof stored === 'number') {
    if (keyset.kind !== 'keyset') {
      throw new ConfigError(
        `the stored bookmark ${JSON.stringify(stored)} is a cursor value, but this read is FullTable; ` +
          RESET_HINT,
      );
    }
    return { type: 'after-cursor', value: stored };
  }
  if (!isObject(stored)) {
    throw new ConfigError(
      `the stored bookmark ${JSON.stringify(stored)} is not one this source wrote; ${RESET_HINT}`,
    );
  }
  const { kind, table, columns, after, completed } = stored;
  const problems: string[] = [];
  if (kind !== keyset.kind) problems.push(`it is a ${String(kind)} position, this read is ${keyset.kind}`);
  if ((table ?? undefined) !== keyset.table) {
    problems.push(`it belongs to ${table === undefined ? 'a query' : `table ${JSON.stringify(table)}`}`);
  }
  if (!Array.isArray(columns) || !sameColumns(columns, keyset.columns)) {
    problems.push(
      `its key columns are ${JSON.stringify(columns)}, this read orders by ${JSON.stringify(keyset.columns)}`,
    );
  }
  if (problems.length > 0) {
    throw new ConfigError(
      `the stored bookmark does not fit this source (${problems.join('; ')}); ${RESET_HINT}`,
    );
  }
  if (completed === true) {
    if (keyset.kind === 'full_table') return { type: 'beginning' };
    throw new ConfigError(
      `the stored bookmark is marked completed, which only a FullTable read writes; ${RESET_HINT}`,
    );
  }
  if (!Array.isArray(after) || after.length !== keyset.columns.length || keyset.columns.length === 0) {
    throw new ConfigError(`the stored bookmark has no usable "after" tuple; ${RESET_HINT}`);
  }
  return { type: 'after-key', values: after };
}
