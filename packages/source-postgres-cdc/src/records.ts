/** pgoutput messages -> change records `{op, schema, table, lsn, commit_ts, key, before, after}`. */
import type { FaucetRecord, JsonObject, JsonValue } from '@faucet/core';
import type { Pgoutput } from 'pg-logical-replication';

type MessageRelation = Pgoutput.MessageRelation;

export type ChangeOp = 'insert' | 'update' | 'delete' | 'truncate' | 'read';

type Tuple = Record<string, unknown> | null | undefined;

/**
 * A decoded tuple as a plain JSON object. Columns whose value did not come (an unchanged TOASTed
 * value in an update of a table without REPLICA IDENTITY FULL) are left out rather than set to null.
 */
export function plain(tuple: Tuple): JsonObject | null {
  if (!tuple) return null;
  const out: JsonObject = {};
  for (const name of Object.keys(tuple)) {
    const value = tuple[name];
    if (value !== undefined) out[name] = value as JsonValue;
  }
  return out;
}

/** The key columns' values of a row, or null when the relation has no key (REPLICA IDENTITY NOTHING). */
export function keyOf(relation: MessageRelation, ...tuples: Tuple[]): JsonObject | null {
  if (relation.keyColumns.length === 0) return null;
  for (const tuple of tuples) {
    if (!tuple) continue;
    const key: JsonObject = {};
    let complete = true;
    for (const column of relation.keyColumns) {
      const value = tuple[column];
      if (value === undefined) {
        complete = false;
        break;
      }
      key[column] = value as JsonValue;
    }
    if (complete) return key;
  }
  return null;
}

/** `1732172400123456n` (µs since the Unix epoch) -> `2024-11-21T07:00:00.123456Z`. */
export function commitTimestamp(micros: bigint | null | undefined): string | null {
  if (micros === null || micros === undefined) return null;
  const ms = Number(micros / 1000n);
  const rest = Number(micros % 1000n);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 23)}${String(rest).padStart(3, '0')}Z`;
}

export function changeRecord(fields: {
  op: ChangeOp;
  schema: string;
  table: string;
  lsn: string | null;
  commitTs: string | null;
  key: JsonObject | null;
  before: JsonObject | null;
  after: JsonObject | null;
}): FaucetRecord {
  return {
    op: fields.op,
    schema: fields.schema,
    table: fields.table,
    lsn: fields.lsn,
    commit_ts: fields.commitTs,
    key: fields.key,
    before: fields.before,
    after: fields.after,
  };
}
