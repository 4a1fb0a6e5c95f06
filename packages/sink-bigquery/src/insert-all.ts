/**
 * Streaming writes with `tabledata.insertAll`. Rows are cut into requests by the batch size and by
 * bytes (BigQuery refuses a request over 10 MB and more than 50,000 rows). Every row carries an
 * insertId, so a request retried after a 5xx or a quota answer is de-duplicated by BigQuery (best
 * effort, for about a minute) instead of written twice.
 *
 * `skipInvalidRows: true`: BigQuery writes the valid rows and lists the others in `insertErrors`
 * (`{index, errors: [{reason, location, message}]}`, `index` counting the rows of that request). Those
 * become per-row failures with BigQuery's reason and location; every other row was written. Rows
 * reported `stopped` were not written because of another row: they are sent again, once, with the
 * same insertIds; nothing else is ever re-sent.
 */
import {
  type CommitScope,
  type FaucetRecord,
  type RowFailure,
  SinkError,
  type WriteResult,
} from '@faucet/core';
import type { SinkContext } from './context.js';
import { type ApiErrorItem, CONNECTOR } from './errors.js';
import { convertRows, insertIdFor } from './rows.js';
import { tablePath } from './table.js';
import type { TargetManager } from './target.js';

/** A row ready to send: its position in the batch, its insertId and its serialised `json`. */
export interface PreparedRow {
  index: number;
  insertId: string;
  /** `{"insertId":…,"json":{…}}`, already JSON. */
  text: string;
}

interface InsertAllResponse {
  insertErrors?: { index: number; errors?: ApiErrorItem[] }[];
}

const HEAD = '{"skipInvalidRows":true,"ignoreUnknownValues":false,"rows":[';
const TAIL = ']}';

/** The serialised form of one row, from its `json` already serialised. */
export function rowText(insertId: string, jsonText: string): string {
  return `{"insertId":${JSON.stringify(insertId)},"json":${jsonText}}`;
}

/** Requests of at most `maxBytes` each (rows that alone exceed it are returned as too large). */
export function cutRequests(
  rows: readonly PreparedRow[],
  maxBytes: number,
): { requests: PreparedRow[][]; tooLarge: PreparedRow[] } {
  const requests: PreparedRow[][] = [];
  const tooLarge: PreparedRow[] = [];
  const frame = HEAD.length + TAIL.length;
  let current: PreparedRow[] = [];
  let size = frame;
  for (const row of rows) {
    const bytes = Buffer.byteLength(row.text) + 1;
    if (frame + bytes > maxBytes) {
      tooLarge.push(row);
      continue;
    }
    if (size + bytes > maxBytes && current.length > 0) {
      requests.push(current);
      current = [];
      size = frame;
    }
    current.push(row);
    size += bytes;
  }
  if (current.length > 0) requests.push(current);
  return { requests, tooLarge };
}

const describeErrors = (errors: readonly ApiErrorItem[]): string =>
  errors
    .map(
      (e) =>
        `${e.reason ?? 'error'}${e.location ? ` at "${e.location}"` : ''}${e.message ? `: ${e.message}` : ''}`,
    )
    .join('; ');

/** Send one request; returns the rows BigQuery refused and those it stopped. */
async function sendRequest(
  ctx: SinkContext,
  rows: readonly PreparedRow[],
  failures: RowFailure[],
): Promise<PreparedRow[]> {
  const body = `${HEAD}${rows.map((r) => r.text).join(',')}${TAIL}`;
  const action = `inserting ${rows.length} rows into ${ctx.display} (insertAll)`;
  const response = await ctx.attempt(action, (api) =>
    api.call<InsertAllResponse>('POST', `${tablePath(ctx.ref)}/insertAll`, { body }),
  );
  const stopped: PreparedRow[] = [];
  for (const entry of response.insertErrors ?? []) {
    const row = rows[entry.index];
    if (!row) {
      throw new SinkError(
        `bigquery sink: insertAll into ${ctx.display} reported an error for row ${entry.index} of a request of ${rows.length}`,
        { connector: CONNECTOR },
      );
    }
    const errors = entry.errors ?? [];
    const real = errors.filter((e) => e.reason !== 'stopped');
    if (real.length === 0) {
      stopped.push(row);
      continue;
    }
    failures.push({
      index: row.index,
      error: new SinkError(
        ctx.redactor.redact(`bigquery sink: ${ctx.display} rejected the row: ${describeErrors(real)}`),
        { code: 'SINK_ROW_REJECTED', connector: CONNECTOR },
      ),
    });
  }
  return stopped;
}

/** Insert the rows; per-row failures are appended to `failures` (with batch positions). */
export async function insertRows(
  ctx: SinkContext,
  rows: readonly PreparedRow[],
  failures: RowFailure[],
): Promise<void> {
  const { requests, tooLarge } = cutRequests(rows, ctx.config.max_request_bytes);
  for (const row of tooLarge) {
    failures.push({
      index: row.index,
      error: new SinkError(
        `bigquery sink: a row of ${Buffer.byteLength(row.text)} bytes does not fit in one insertAll request ` +
          `(max_request_bytes ${ctx.config.max_request_bytes}); use write_method: load for rows this large`,
        { code: 'SINK_ROW_REJECTED', connector: CONNECTOR },
      ),
    });
  }
  for (const request of requests) {
    const stopped = await sendRequest(ctx, request, failures);
    if (stopped.length === 0) continue;
    // Not written because of another row of the request: once more, on their own, same insertIds.
    const again = await sendRequest(ctx, stopped, failures);
    for (const row of again) {
      failures.push({
        index: row.index,
        error: new SinkError(
          `bigquery sink: ${ctx.display} did not write the row twice in a row (reason "stopped")`,
          { code: 'SINK_ROW_REJECTED', connector: CONNECTOR },
        ),
      });
    }
  }
}

/** Write a batch with insertAll; rows BigQuery refused (or that cannot fit the table) are returned. */
export async function writeInsertAll(
  ctx: SinkContext,
  targets: TargetManager,
  records: FaucetRecord[],
  commit?: CommitScope,
): Promise<WriteResult> {
  const failures: RowFailure[] = [];
  const table = await targets.prepare(records);
  if (!table || records.length === 0) return {};
  const rows = convertRows(
    records.map((record, index) => ({ index, record })),
    targets.convertOptions(table, 'insert_all'),
    failures,
  );
  // Under effectively-once a page is written whole or not at all (the engine fails the run).
  if (commit && failures.length > 0) return { failed: failures };
  const key = ctx.config.key;
  const prepared = rows.map((row) => {
    const insertId = insertIdFor(row, records[row.index] as FaucetRecord, { key, commit });
    return { index: row.index, insertId, text: rowText(insertId, row.text) };
  });
  await insertRows(ctx, prepared, failures);
  failures.sort((a, b) => a.index - b.index);
  return failures.length > 0 ? { failed: failures } : {};
}
