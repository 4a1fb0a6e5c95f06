/**
 * Preparing a batch: each record validated and converted to text values, then grouped by action
 * (insert, upsert, delete) and column set, so each group is one statement kind.
 */
import { CONNECTOR } from '@faucet/common-postgres';
import { type FaucetRecord, type JsonValue, type Logger, type RowFailure, SinkError } from '@faucet/core';
import type { PostgresSinkConfig } from './config.js';
import { jsonbColumnOf, type Target } from './target.js';
import { type Converter, ValueError } from './values.js';

export interface PreparedRow {
  /** Position in the batch given to `write`. */
  index: number;
  values: (string | null)[];
}

export interface Unit {
  action: 'insert' | 'upsert' | 'delete';
  columns: string[];
  rows: PreparedRow[];
}

export interface PreparedBatch {
  units: Unit[];
  failures: RowFailure[];
}

interface Entry {
  index: number;
  record: FaucetRecord;
  del: boolean;
}

export const rowError = (message: string, cause?: unknown): SinkError =>
  new SinkError(message, {
    code: 'SINK_ROW_REJECTED',
    connector: CONNECTOR,
    ...(cause === undefined ? {} : { cause }),
  });

/** Key values compare as text, so an int8 key sent once as `7` and once as `"7"` is one row. */
const keyText = (values: readonly JsonValue[]): string =>
  JSON.stringify(values.map((v) => (typeof v === 'number' ? String(v) : v)));

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The batch preparer for a config. It warns once per unknown field for the life of the sink, so it
 * is made once per sink.
 */
export function createRowPreparer(
  config: PostgresSinkConfig,
  logger: Logger,
): (records: readonly FaucetRecord[], t: Target) => PreparedBatch {
  const mode = config.write_mode;
  const key = config.key;
  const jsonbColumn = jsonbColumnOf(config);
  const display = JSON.stringify(config.table);
  const deleteValues: JsonValue[] = config.delete_marker?.values ?? [true];
  const warnedUnknown = new Set<string>();

  function isDelete(record: FaucetRecord): boolean {
    if (mode === 'delete') return true;
    const marker = config.delete_marker;
    if (!marker || !(marker.field in record)) return false;
    const value = record[marker.field];
    return deleteValues.some((v) => v === value);
  }

  function warnUnknown(t: Target, record: FaucetRecord): void {
    const fresh = Object.keys(record).filter((f) => !t.columns.has(f) && !warnedUnknown.has(f));
    if (fresh.length === 0) return;
    for (const f of fresh) warnedUnknown.add(f);
    logger.warn('postgres sink: record fields without a column are not written', {
      table: config.table,
      fields: fresh,
    });
  }

  /** The rows to write, in batch order; with a key, the last row of each key only. */
  function entriesOf(records: readonly FaucetRecord[], failures: RowFailure[]): Entry[] {
    const entries: Entry[] = [];
    if (mode === 'append') {
      records.forEach((record, index) => {
        entries.push({ index, record, del: false });
      });
    } else {
      // Last row wins within a batch: one statement cannot touch a key twice.
      const latest = new Map<string, Entry>();
      records.forEach((record, index) => {
        const missing = key.find((k) => record[k] === undefined || record[k] === null);
        if (missing !== undefined) {
          failures.push({ index, error: rowError(`key field "${missing}" is missing or null`) });
          return;
        }
        const id = keyText(key.map((k) => record[k] as JsonValue));
        latest.delete(id);
        latest.set(id, { index, record, del: isDelete(record) });
      });
      entries.push(...latest.values());
    }
    return entries;
  }

  // A record that is not a delete is an insert or an upsert, by the mode.
  const writeAction = mode === 'upsert' ? 'upsert' : 'insert';
  const signatureOf = (action: Unit['action'], columns: readonly string[]) =>
    `${action}\u0000${columns.join('\u0000')}`;

  // Records from one source mostly carry the same fields in the same order: the columns they fill,
  // their statement signature, and the check for fields without a column are worked out once per
  // field list.
  let shape: { target: Target; fields: string[]; columns: string[]; signature: string } | undefined;
  function columnsOf(t: Target, record: FaucetRecord): string[] {
    const fields = Object.keys(record);
    if (!shape || shape.target !== t || !sameList(fields, shape.fields)) {
      warnUnknown(t, record);
      const columns = t.order.filter((c) => record[c] !== undefined);
      shape = { target: t, fields, columns, signature: signatureOf(writeAction, columns) };
    }
    const { columns } = shape;
    // A field set to `undefined` (possible from JavaScript callers only) fills no column.
    for (const c of columns)
      if (record[c] === undefined) return t.order.filter((f) => record[f] !== undefined);
    return columns;
  }

  /** Validate and convert a batch; group rows by action and column set, one statement kind each. */
  return function prepare(records, t) {
    const failures: RowFailure[] = [];
    const entries = entriesOf(records, failures);
    const units = new Map<string, Unit>();
    for (const { index, record, del } of entries) {
      let columns: string[];
      if (del) columns = [...key];
      else if (jsonbColumn !== undefined) columns = [...key.filter((k) => k in record), jsonbColumn];
      else {
        columns = columnsOf(t, record);
        if (columns.length === 0) {
          failures.push({ index, error: rowError(`no field of the record matches a column of ${display}`) });
          continue;
        }
      }
      let values: (string | null)[];
      let column = '';
      try {
        values = columns.map((c) => {
          column = c;
          if (c === jsonbColumn && !del) return JSON.stringify(record);
          const convert = t.converters.get(c) as Converter;
          return convert(record[c] as JsonValue);
        });
      } catch (error) {
        if (!(error instanceof ValueError)) throw error;
        const where = `postgres sink: ${display} column "${column}"`;
        failures.push({ index, error: rowError(`${where}: ${error.message}`) });
        continue;
      }
      const action = del ? 'delete' : writeAction;
      // The shape's columns (the usual case) come with their signature made once.
      const signature = columns === shape?.columns ? shape.signature : signatureOf(action, columns);
      let unit = units.get(signature);
      if (!unit) {
        unit = { action, columns, rows: [] };
        units.set(signature, unit);
      }
      unit.rows.push({ index, values });
    }
    return { units: [...units.values()], failures };
  };
}
