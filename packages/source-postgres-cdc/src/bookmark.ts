/**
 * Bookmarks of the CDC source. Each names its kind and the slot it belongs to (ARCHITECTURE §4,
 * source state), so a bookmark is never applied to another slot.
 *
 * - streaming: `{kind: 'lsn', slot, lsn}`: the end of the last transaction written; the slot is
 *   confirmed up to it once it is stored.
 * - snapshot: `{kind: 'snapshot', slot, lsn, exact, done, table, after}`: streaming starts at `lsn`
 *   (the slot's consistent point) once every published table is in `done`; `table` / `after` is the
 *   keyset position inside the table being read.
 */
import { type JsonValue, SourceError } from '@faucet/core';
import { isLsn, normaliseLsn } from './lsn.js';

export interface LsnBookmark {
  kind: 'lsn';
  slot: string;
  lsn: string;
}

export interface SnapshotBookmark {
  kind: 'snapshot';
  slot: string;
  lsn: string;
  /** True while the snapshot is the slot's own exported one (an exact seam). */
  exact: boolean;
  done: string[];
  table: string | null;
  after: JsonValue[] | null;
  [key: string]: JsonValue;
}

export type CdcBookmark = LsnBookmark | SnapshotBookmark;

function fail(why: string, slot: string): never {
  throw new SourceError(
    `postgres-cdc source: the stored bookmark ${why}; delete it (faucet state delete postgres-cdc:${slot}) to start over`,
    { connector: 'postgres-cdc' },
  );
}

/** Validate a stored bookmark; undefined when there is none. */
export function parseBookmark(value: JsonValue | undefined, slot: string): CdcBookmark | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) fail('is not an object', slot);
  const b = value as Record<string, JsonValue>;
  if (b.slot !== slot) {
    fail(`belongs to slot ${JSON.stringify(b.slot ?? null)}, not ${JSON.stringify(slot)}`, slot);
  }
  if (!isLsn(b.lsn)) fail('has no valid lsn', slot);
  const lsn = normaliseLsn(b.lsn as string);
  if (b.kind === 'lsn') return { kind: 'lsn', slot, lsn };
  if (b.kind === 'snapshot') {
    const done = Array.isArray(b.done) ? b.done.filter((t): t is string => typeof t === 'string') : [];
    return {
      kind: 'snapshot',
      slot,
      lsn,
      exact: b.exact === true,
      done,
      table: typeof b.table === 'string' ? b.table : null,
      after: Array.isArray(b.after) ? b.after : null,
    };
  }
  return fail(`has an unknown kind ${JSON.stringify(b.kind ?? null)}`, slot);
}
