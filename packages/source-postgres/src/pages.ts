/**
 * Pages out of an ordered row stream, each carrying the bookmark it may: a keyset tuple after its
 * last row (never inside a run of equal cursor values when ties are possible), or the FullTable
 * "completed" marker after the last. The rows come from a {@link RowReader}: a server-side cursor
 * (`FETCH FORWARD n`) or a streamed `COPY … TO STDOUT`.
 */
import {
  compareCursor,
  type FaucetRecord,
  type JsonValue,
  type Page,
  type SourceContext,
  SourceError,
} from '@faucet/core';
import { completedBookmark, keysetBookmark } from './bookmark.js';
import type { ReadPlan } from './plan.js';

export type Row = JsonValue[];

/** Where rows come from, in keyset order. */
export interface RowReader {
  /** The result's column names; known once the first `fetch` resolved. */
  names(): readonly string[];
  /** Up to `count` more rows; fewer only when the result is exhausted. */
  fetch(count: number): Promise<Row[]>;
}

function compareTuples(a: readonly JsonValue[], b: readonly JsonValue[]): number | undefined {
  for (let i = 0; i < a.length; i++) {
    const c = compareCursor(a[i], b[i]);
    if (c === undefined) return undefined;
    if (c !== 0) return c;
  }
  return 0;
}

/** Fail on a result with two columns of one name: one of them would be lost in every record. */
function checkNames(names: readonly string[], what: string): void {
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) {
    throw new SourceError(
      `postgres source: ${what} returns two columns named "${duplicate}"; give them distinct aliases`,
      { connector: 'postgres' },
    );
  }
}

export interface PagesOptions {
  plan: ReadPlan;
  pageSize: number;
  /** A lookback re-read never moves the bookmark behind this tuple (where the last run stopped). */
  floor: readonly JsonValue[] | undefined;
  ctx: SourceContext;
}

/** The pages of `reader`, until it is exhausted or the read is cancelled. */
export async function* pagesOf(
  reader: RowReader,
  { plan, pageSize, floor, ctx }: PagesOptions,
): AsyncGenerator<Page, void, undefined> {
  const { keyset, tiesPossible, every, what } = plan;
  let names: readonly string[] | undefined;
  let keyIndexes: number[] = [];
  const fetchRows = async (count: number): Promise<Row[]> => {
    const rows = await reader.fetch(count);
    if (!names) {
      names = reader.names();
      checkNames(names, what);
      keyIndexes = keyset.columns.map((c) => names?.indexOf(c) ?? -1);
    }
    return rows;
  };
  const toRecord = (row: Row): FaucetRecord => {
    const record: FaucetRecord = {};
    (names ?? []).forEach((name, i) => {
      record[name] = row[i] ?? null;
    });
    return record;
  };
  const tupleOf = (row: Row): JsonValue[] => keyIndexes.map((i) => row[i] ?? null);
  const bookmarkAfter = (row: Row) => {
    let tuple = tupleOf(row);
    if (floor && (compareTuples(tuple, floor) ?? 0) < 0) tuple = [...floor];
    return keysetBookmark(keyset, tuple);
  };

  const want = pageSize + (tiesPossible ? 1 : 0);
  const buffer: Row[] = [];
  let exhausted = false;
  let sinceCheckpoint = 0;
  let finished = false;
  for (;;) {
    if (ctx.signal.aborted) return;
    if (!exhausted && buffer.length < want) {
      const count = want - buffer.length;
      const rows = await fetchRows(count);
      for (const row of rows) buffer.push(row);
      if (rows.length < count) exhausted = true;
    }
    if (buffer.length === 0) break;
    const rows = buffer.splice(0, pageSize);
    const last = rows[rows.length - 1] as Row;
    const isLast = exhausted && buffer.length === 0;
    sinceCheckpoint += rows.length;
    let bookmark: JsonValue | undefined;
    if (keyset.kind === 'full_table') {
      if (isLast) bookmark = completedBookmark(keyset);
      else if (keyset.columns.length > 0 && sinceCheckpoint >= every) bookmark = bookmarkAfter(last);
    } else {
      const next = buffer[0];
      const tie =
        tiesPossible &&
        next !== undefined &&
        JSON.stringify(next[keyIndexes[0] ?? 0]) === JSON.stringify(last[keyIndexes[0] ?? 0]);
      if (isLast || (sinceCheckpoint >= every && !tie)) bookmark = bookmarkAfter(last);
    }
    if (bookmark !== undefined) sinceCheckpoint = 0;
    const records = rows.map(toRecord);
    yield bookmark === undefined ? { records } : { records, bookmark };
    if (isLast) {
      finished = true;
      break;
    }
  }
  // The pass ended on a full page (or found nothing): an empty page marks it completed.
  if (keyset.kind === 'full_table' && !finished && !ctx.signal.aborted) {
    yield { records: [], bookmark: completedBookmark(keyset) };
  }
}
