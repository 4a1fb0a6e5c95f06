/**
 * Reading through the server-side cursor: `DECLARE … CURSOR` inside a read-only REPEATABLE READ
 * transaction, then `FETCH FORWARD n` a page at a time, each page carrying the bookmark it may.
 */
import { type ArrayType, queryTypes } from '@faucet/common-postgres';
import {
  compareCursor,
  type FaucetRecord,
  type JsonValue,
  type Page,
  type SourceContext,
  SourceError,
} from '@faucet/core';
import { completedBookmark, keysetBookmark } from './bookmark.js';
import type { PostgresPoolClient } from './client.js';
import type { ReadPlan } from './plan.js';
import type { ReadQuery } from './query.js';

const CURSOR_NAME = 'faucet_read';
const SESSION_SETUP =
  "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; " +
  "SET LOCAL IntervalStyle = 'iso_8601'; SET LOCAL bytea_output = 'hex'; SET LOCAL extra_float_digits = 3";

type Row = JsonValue[];

function compareTuples(a: readonly JsonValue[], b: readonly JsonValue[]): number | undefined {
  for (let i = 0; i < a.length; i++) {
    const c = compareCursor(a[i], b[i]);
    if (c === undefined) return undefined;
    if (c !== 0) return c;
  }
  return 0;
}

/** Begin the read-only snapshot transaction and declare the cursor over `query`. */
export async function openCursor(client: PostgresPoolClient, query: ReadQuery): Promise<void> {
  await client.query({ text: `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${SESSION_SETUP}` });
  await client.query({
    text: `DECLARE ${CURSOR_NAME} NO SCROLL CURSOR FOR ${query.text}`,
    values: query.values,
  });
}

export interface CursorPagesOptions {
  plan: ReadPlan;
  arrayTypes: Map<number, ArrayType>;
  pageSize: number;
  /** A lookback re-read never moves the bookmark behind this tuple (where the last run stopped). */
  floor: readonly JsonValue[] | undefined;
  ctx: SourceContext;
}

/** The pages of the open cursor, until it is exhausted or the read is cancelled. */
export async function* cursorPages(
  client: PostgresPoolClient,
  { plan, arrayTypes, pageSize, floor, ctx }: CursorPagesOptions,
): AsyncGenerator<Page, void, undefined> {
  const { keyset, tiesPossible, every, what } = plan;
  const types = queryTypes(arrayTypes);
  let names: string[] | undefined;
  let keyIndexes: number[] = [];
  const fetchRows = async (count: number): Promise<Row[]> => {
    const result = await client.query({
      text: `FETCH FORWARD ${count} FROM ${CURSOR_NAME}`,
      rowMode: 'array',
      types,
    });
    if (!names) {
      names = result.fields.map((f) => f.name);
      const duplicate = names.find((n, i) => names?.indexOf(n) !== i);
      if (duplicate !== undefined) {
        throw new SourceError(
          `postgres source: ${what} returns two columns named "${duplicate}"; give them distinct aliases`,
          { connector: 'postgres' },
        );
      }
      keyIndexes = keyset.columns.map((c) => names?.indexOf(c) ?? -1);
    }
    return result.rows as Row[];
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
