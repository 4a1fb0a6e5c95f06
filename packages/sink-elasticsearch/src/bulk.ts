/**
 * Sending operations with `_bulk`: requests bounded by documents and bytes, a few in flight at once,
 * and every item of every response checked.
 *
 * - 429 items (`es_rejected_execution_exception`: the node's write queue is full) and 502/503/504
 *   items were not written; only they are sent again, after a backoff, until they go through or the
 *   attempts run out (then the write fails: back-pressure never dead-letters a document).
 * - 400 items (mapping, parsing) and 409 items (version conflicts) are per-row failures, with the
 *   item's error type and reason, for the DLQ.
 * - A 404 on delete is success (the document is already gone); so is a 409 on `create` when ids are
 *   derived from the commit token (the document was written before a crash).
 * - Anything else (a missing index, a closed or read-only index, no permission) fails the write.
 *
 * A whole request refused with 429 executed nothing and is sent again in any mode; one that failed
 * on the way (connection, timeout, 5xx) is sent again only when the operations are idempotent.
 */
import type { Client } from '@elastic/elasticsearch';
import {
  abortableSleep,
  type FaucetError,
  RateLimitedError,
  type Redactor,
  type RetryPolicy,
  type RowFailure,
  SinkError,
} from '@faucet/core';
import { CONNECTOR, describeServerError, type ServerErrorInfo, statusOf, wrapClientError } from './client.js';
import { type BulkItem, rowError } from './operations.js';

export interface BulkOptions {
  client: Client;
  server: string;
  /** The index in the request path when every item goes there (their action lines omit `_index`). */
  pathIndex: string | undefined;
  pipeline: string | undefined;
  maxDocs: number;
  maxBytes: number;
  concurrency: number;
  policy: RetryPolicy;
  /** Sending the same operations twice has the effect of sending them once. */
  idempotent: boolean;
  /** A 409 on `create` means the document was written before (ids derived from the commit token). */
  conflictIsWritten: boolean;
  redactor: Redactor;
  signal: AbortSignal;
  onRetry?: (info: { attempt: number; documents: number; delayMs: number; reason: string }) => void;
}

interface ItemResult {
  status: number;
  error?: ServerErrorInfo & { caused_by?: ServerErrorInfo };
}

interface BulkResponse {
  errors?: boolean;
  items?: Array<Record<string, ItemResult>>;
}

/** Ask only for what is checked: most answers shrink to `{"errors":false}`. */
const FILTER_PATH = 'errors,items.*.status,items.*.error';

const RETRY_ITEM_STATUS = new Set([429, 502, 503, 504]);

/** Split items into requests of at most `maxDocs` documents and `maxBytes` bytes, in order. */
export function chunkItems(items: readonly BulkItem[], maxDocs: number, maxBytes: number): BulkItem[][] {
  const chunks: BulkItem[][] = [];
  let current: BulkItem[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length > 0 && (current.length >= maxDocs || bytes + item.bytes > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

interface ChunkOutcome {
  failures: RowFailure[];
  /** Items to send again, with why. */
  retry: BulkItem[];
  retryReason?: string;
}

function itemReason(result: ItemResult): string {
  const cause = result.error?.caused_by;
  const base = describeServerError(result.error);
  return cause?.reason ? `${base} (caused by ${describeServerError(cause)})` : base;
}

function judgeItems(chunk: readonly BulkItem[], response: BulkResponse, options: BulkOptions): ChunkOutcome {
  const outcome: ChunkOutcome = { failures: [], retry: [] };
  if (response.errors === false) return outcome;
  const results = response.items ?? [];
  let fatal: FaucetError | undefined;
  for (let i = 0; i < chunk.length; i++) {
    const item = chunk[i] as BulkItem;
    const entry = results[i];
    const result = entry ? (Object.values(entry)[0] as ItemResult | undefined) : undefined;
    if (!result) {
      fatal ??= new SinkError(
        `elasticsearch sink (${options.server}): the _bulk answer has no result for document ${item.index}`,
        { connector: CONNECTOR },
      );
      continue;
    }
    const status = result.status;
    if (status < 300) continue;
    if (status === 404 && item.op === 'delete' && !result.error) continue;
    if (status === 409 && item.op === 'create' && options.conflictIsWritten) continue;
    const reason = itemReason(result);
    if (RETRY_ITEM_STATUS.has(status)) {
      outcome.retry.push(item);
      outcome.retryReason ??= `HTTP ${status} ${reason}`;
    } else if ((status === 400 || status === 409) && !missingPipeline(result)) {
      const message = `elasticsearch sink: index "${item.target}" rejected the document (HTTP ${status} ${reason})`;
      outcome.failures.push({ index: item.index, error: rowError(options.redactor.redact(message)) });
    } else {
      fatal ??= fatalItemError(item, status, result, options);
    }
  }
  if (fatal) throw fatal;
  return outcome;
}

/** A pipeline that does not exist fails every document alike: a setup problem, not a row's. */
const missingPipeline = (result: ItemResult): boolean =>
  result.error?.type === 'illegal_argument_exception' &&
  /^pipeline with id \[.*\] does not exist/.test(result.error.reason ?? '');

function fatalItemError(item: BulkItem, status: number, result: ItemResult, options: BulkOptions): SinkError {
  const where = `elasticsearch sink (${options.server})`;
  const type = result.error?.type;
  let message: string;
  if (type === 'index_not_found_exception') {
    message =
      `${where}: index "${item.target}" does not exist and the cluster does not create indices ` +
      'automatically (action.auto_create_index); create it, or give the sink a create_index setting';
  } else if (missingPipeline(result)) {
    message = `${where}: ingest pipeline "${options.pipeline}" does not exist (writing to index "${item.target}")`;
  } else {
    message = `${where}: writing to index "${item.target}" failed (HTTP ${status} ${itemReason(result)})`;
  }
  return new SinkError(options.redactor.redact(message), {
    connector: CONNECTOR,
    code: status === 401 || status === 403 ? 'AUTH_FAILED' : 'SINK_WRITE_FAILED',
  });
}

async function sendChunk(chunk: readonly BulkItem[], options: BulkOptions): Promise<ChunkOutcome> {
  let body = '';
  for (const item of chunk) body += item.lines;
  const querystring: Record<string, string> = { filter_path: FILTER_PATH };
  if (options.pipeline !== undefined) querystring.pipeline = options.pipeline;
  const path = options.pathIndex === undefined ? '/_bulk' : `/${encodeURIComponent(options.pathIndex)}/_bulk`;
  let response: BulkResponse;
  try {
    response = await options.client.transport.request<BulkResponse>(
      { method: 'POST', path, querystring, bulkBody: body },
      // A request that failed on the way may have been applied: only idempotent ones are re-sent.
      { signal: options.signal, maxRetries: options.idempotent ? 3 : 0 },
    );
  } catch (error) {
    const status = statusOf(error);
    const target = options.pathIndex ?? chunk[0]?.target ?? '?';
    const wrapped = wrapClientError(error, {
      server: options.server,
      action: `writing ${chunk.length} documents to index "${target}"`,
      redactor: options.redactor,
    });
    // 429 for the whole request: the node refused it before executing any of it.
    const canResend = status === 429 || (options.idempotent && wrapped.retryable);
    if (!canResend || options.signal.aborted) throw wrapped;
    return { failures: [], retry: [...chunk], retryReason: wrapped.message };
  }
  return judgeItems(chunk, response, options);
}

/** Run `tasks` with at most `limit` in flight; wait for all of them even when one fails. */
async function inPool<T>(inputs: readonly T[], limit: number, run: (input: T) => Promise<ChunkOutcome>) {
  const outcomes: ChunkOutcome[] = [];
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < inputs.length && !failure) {
      const input = inputs[next++] as T;
      try {
        outcomes.push(await run(input));
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, inputs.length) }, worker));
  if (failure) throw failure.error;
  return outcomes;
}

function backoffMs(policy: RetryPolicy, retry: number): number {
  const exponential = policy.baseDelayMs * 2 ** Math.min(retry - 1, 30);
  const jittered = policy.jitter ? exponential * (0.5 + Math.random()) : exponential;
  return Math.floor(Math.min(jittered, policy.maxDelayMs));
}

/** Send every item; resolve with the per-row failures, or throw when the write as a whole failed. */
export async function sendBulk(items: readonly BulkItem[], options: BulkOptions): Promise<RowFailure[]> {
  const failures: RowFailure[] = [];
  let pending: readonly BulkItem[] = items;
  for (let attempt = 1; pending.length > 0; attempt++) {
    // Spread a write over `concurrency` requests (a page of 1000 is two of 500 by default), so the
    // node indexes on as many threads as we allow; never above batch_size documents per request.
    const perRequest = Math.min(options.maxDocs, Math.ceil(pending.length / options.concurrency));
    const chunks = chunkItems(pending, Math.max(1, perRequest), options.maxBytes);
    const outcomes = await inPool(chunks, options.concurrency, (chunk) => sendChunk(chunk, options));
    const retry: BulkItem[] = [];
    let reason: string | undefined;
    for (const outcome of outcomes) {
      failures.push(...outcome.failures);
      retry.push(...outcome.retry);
      reason ??= outcome.retryReason;
    }
    if (retry.length === 0) break;
    if (attempt >= options.policy.maxAttempts) {
      throw new RateLimitedError(
        `elasticsearch sink (${options.server}): ${retry.length} documents were still refused after ` +
          `${attempt} attempts (${reason ?? 'rejected'}); the node is overloaded, or raise retry.max_attempts`,
        { connector: CONNECTOR },
      );
    }
    const delayMs = backoffMs(options.policy, attempt);
    options.onRetry?.({ attempt, documents: retry.length, delayMs, reason: reason ?? 'rejected' });
    await abortableSleep(delayMs, options.signal);
    // Keep the batch's order, so a later attempt sends documents in the order they came.
    pending = retry.sort((a, b) => a.index - b.index);
  }
  return failures.sort((a, b) => a.index - b.index);
}
