/**
 * Records → `_bulk` operations: the action line and the source line of each record, already
 * serialised (so batches can be bounded by bytes), or the reason a record cannot be sent.
 *
 * Keyed modes keep only the last operation per (index, _id) of a batch: the requests of one batch
 * may run concurrently, and last-write-wins must hold as if they had run in order.
 */
import { type FaucetRecord, type JsonValue, type RowFailure, SinkError } from '@faucet/core';
import { CONNECTOR } from './client.js';
import type { ElasticsearchSinkConfig } from './config.js';
import { DocumentIdError, keyId } from './document-id.js';
import { fieldValue, type IndexName, IndexNameError, resolveIndexName } from './index-name.js';

export type OpType = 'create' | 'index' | 'update' | 'delete';

export interface BulkItem {
  /** Position of the record in the batch given to `write`. */
  index: number;
  op: OpType;
  /** The index the document goes to (for messages and refresh). */
  target: string;
  /** The action line and, except for deletes, the source line, each ending in a newline. */
  lines: string;
  /** Byte length of `lines`. */
  bytes: number;
}

export interface Prepared {
  items: BulkItem[];
  failures: RowFailure[];
}

export interface PrepareOptions {
  config: ElasticsearchSinkConfig;
  indexName: IndexName;
  /** Effectively-once appends: the `_id` prefix of this page (ids are `<prefix>-<position>`). */
  pagePrefix?: string;
}

export const rowError = (message: string): SinkError =>
  new SinkError(message, { code: 'SINK_ROW_REJECTED', connector: CONNECTOR });

/** A cache of the constant action lines of a fixed index without ids (`{"create":{}}`). */
const BARE_ACTIONS = new Map<string, string>();

function actionLine(op: OpType, meta: { _index?: string; _id?: string; routing?: string }): string {
  const bare = meta._index === undefined && meta._id === undefined && meta.routing === undefined;
  if (bare) {
    let line = BARE_ACTIONS.get(op);
    if (!line) {
      line = `{"${op}":{}}\n`;
      BARE_ACTIONS.set(op, line);
    }
    return line;
  }
  const body: { _index?: string; _id?: string; routing?: string; retry_on_conflict?: number } = { ...meta };
  // Two writers updating one document race on its version; the node retries the update itself.
  if (op === 'update') body.retry_on_conflict = 3;
  return `${JSON.stringify({ [op]: body })}\n`;
}

function isDelete(record: FaucetRecord, config: ElasticsearchSinkConfig, values: JsonValue[]): boolean {
  if (config.write_mode === 'delete') return true;
  const marker = config.delete_marker;
  if (!marker || !(marker.field in record)) return false;
  const value = record[marker.field];
  return values.some((v) => v === value);
}

export function prepareOperations(records: readonly FaucetRecord[], options: PrepareOptions): Prepared {
  const { config, indexName, pagePrefix } = options;
  const mode = config.write_mode;
  const keyed = mode !== 'append';
  const deleteValues: JsonValue[] = config.delete_marker?.values ?? [true];
  const failures: RowFailure[] = [];
  const items: BulkItem[] = [];
  // Keyed modes: the position in `items` of the latest operation per index and _id.
  const latest = keyed ? new Map<string, number>() : undefined;
  const maxBytes = config.max_bulk_bytes;
  for (let index = 0; index < records.length; index++) {
    const record = records[index] as FaucetRecord;
    let target: string;
    let id: string | undefined;
    let routing: string | undefined;
    try {
      target = resolveIndexName(indexName, record);
      if (config.key.length > 0) id = keyId(record, config.key);
      else if (pagePrefix !== undefined) id = `${pagePrefix}-${index}`;
      if (config.routing_field !== undefined) {
        const value = fieldValue(record, config.routing_field);
        if (value === undefined || value === null || typeof value === 'object') {
          throw new DocumentIdError(
            `routing field "${config.routing_field}" is missing, null or not a scalar`,
          );
        }
        routing = String(value);
      }
    } catch (error) {
      if (!(error instanceof DocumentIdError || error instanceof IndexNameError)) throw error;
      failures.push({ index, error: rowError(`elasticsearch sink: ${error.message}`) });
      continue;
    }
    const del = keyed && isDelete(record, config, deleteValues);
    const op: OpType = del ? 'delete' : mode === 'append' ? 'create' : mode === 'upsert' ? 'update' : 'index';
    const meta = {
      ...(indexName.fixed === undefined ? { _index: target } : {}),
      ...(id === undefined ? {} : { _id: id }),
      ...(routing === undefined ? {} : { routing }),
    };
    let lines = actionLine(op, meta);
    if (op === 'update') lines += `{"doc":${JSON.stringify(record)},"doc_as_upsert":true}\n`;
    else if (op !== 'delete') lines += `${JSON.stringify(record)}\n`;
    const bytes = Buffer.byteLength(lines);
    if (bytes > maxBytes) {
      failures.push({
        index,
        error: rowError(
          `elasticsearch sink: the document is ${bytes} bytes in a _bulk body, more than max_bulk_bytes (${maxBytes})`,
        ),
      });
      continue;
    }
    const item: BulkItem = { index, op, target, lines, bytes };
    if (latest && id !== undefined) {
      const slot = `${target}\u0000${id}`;
      const previous = latest.get(slot);
      if (previous !== undefined) {
        // Last write wins: the earlier operation is superseded, and counts as written.
        items[previous] = item;
        continue;
      }
      latest.set(slot, items.length);
    }
    items.push(item);
  }
  return { items, failures };
}
