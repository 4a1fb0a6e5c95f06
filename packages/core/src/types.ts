/**
 * The contracts every connector implements. Kept deliberately small: a source yields pages, a sink
 * writes batches, a state store keeps one small JSON value per key. Everything else (ordering,
 * checkpoints, retries, the dead-letter queue, metrics) lives in the engine.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * One record: a plain JSON object. Integers beyond 2^53 (Postgres int8, numeric) travel as strings.
 * Named `FaucetRecord` because `Record` is a TypeScript built-in.
 */
export type FaucetRecord = JsonObject;

/**
 * A page of records. A page that carries a bookmark is a checkpoint: resuming from that bookmark
 * yields exactly what comes after this page. An empty page with a bookmark is legal (a poll that
 * found nothing new may still move its source state).
 */
export interface Page {
  records: FaucetRecord[];
  bookmark?: JsonValue;
  /**
   * The slice this page's bookmark belongs to (a partition id). Its bookmark is stored under its
   * own key, `{stateKey}::{partition}`, and read back with `SourceContext.partitionBookmark`, so
   * partitions read concurrently checkpoint independently. Ids use the state-key characters
   * `[A-Za-z0-9_.:-]`. Not available with effectively-once delivery.
   */
  partition?: string;
  /**
   * Records the source read but could not decode (a JSONL line that is not JSON, a CSV row with the
   * wrong number of fields), set aside instead of failing the run. A source yields them only when
   * `SourceContext.onRecordError` is `dlq`; the engine dead-letters them (reason `source`) before the
   * page's bookmark is stored, and counts them against the DLQ budgets.
   */
  rejected?: RejectedRecord[];
}

/** A record a source could not decode; see `Page.rejected`. */
export interface RejectedRecord {
  error: Error | string;
  /** The raw text as read (binary data as base64), when the source has it. */
  raw?: string;
  /** Where it was: file, line, byte offset, partition and offset, record index …, as the source can tell. */
  position?: JsonObject;
}

/** What a bad source record does: fail the run (default), or go to the DLQ while the run goes on. */
export type RecordErrorPolicy = 'fail' | 'dlq';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, fields?: JsonObject): void;
  info(message: string, fields?: JsonObject): void;
  warn(message: string, fields?: JsonObject): void;
  error(message: string, fields?: JsonObject): void;
}

export interface SourceContext {
  /** The last durable bookmark for this state key, or undefined on a first run. */
  readonly bookmark: JsonValue | undefined;
  /** Page-size hint. A source may use its own configured size instead, but must stay bounded. */
  readonly batchSize: number;
  /** Aborted when the run is cancelled; a source should stop waiting (long polls, sleeps) promptly. */
  readonly signal: AbortSignal;
  /** The parent record, when this source runs as a DAG child. */
  readonly parent?: FaucetRecord;
  readonly logger: Logger;
  /**
   * True when bookmarks of this run go to a durable state store. A source that acknowledges its
   * upstream (a replication slot, consumer offsets) must not do so from a bookmark that is not durable.
   */
  readonly durableState?: boolean;
  /** The stored bookmark of one partition (see `Page.partition`), or undefined. */
  partitionBookmark?(partition: string): Promise<JsonValue | undefined>;
  /**
   * `dlq` when the pipeline sets `on_record_error: dlq`: a record the source cannot decode goes into
   * `Page.rejected` instead of failing the read. Absent or `fail`: throw, as before.
   */
  readonly onRecordError?: RecordErrorPolicy;
}

/** Passed to `Source.onCheckpoint`. */
export interface CheckpointInfo {
  /** The partition the bookmark belongs to, when the page named one. */
  partition?: string;
}

export interface DiscoveredStream {
  name: string;
  /** JSON Schema of one record, when the source can tell. */
  schema?: JsonObject;
  primaryKeys?: string[];
  cursorFields?: string[];
}

export interface Source {
  /** Stream pages in order. Never load a whole table, topic or listing into memory. */
  read(ctx: SourceContext): AsyncIterable<Page>;
  /** Cheap connectivity / permission probe; throws a FaucetError when the source is unusable. */
  check?(): Promise<void>;
  discover?(): Promise<DiscoveredStream[]>;
  /**
   * Facts about the source's position upstream worth showing an operator (e.g. a replication slot's
   * lag in bytes); `faucet check` prints them. Throws a FaucetError when the source is unusable.
   * `bookmark` is the row's stored bookmark (what the next run resumes from) when the caller has one,
   * so a source can tell what is pending since it (e.g. the objects not yet read); a source may
   * ignore it, and must accept none.
   */
  status?(bookmark?: JsonValue): Promise<JsonObject>;
  close?(): Promise<void>;
  /**
   * A state key owned by the outside object this source reads (e.g. `postgres-cdc:<slot>`); when
   * set it wins over the pipeline's own key.
   */
  readonly stateKey?: string;
  /**
   * True when reading again from the same bookmark yields the same pages in the same order (CDC,
   * Kafka partitions, keyset-ordered SQL). Effectively-once delivery relies on it.
   */
  readonly deterministic?: boolean;
  /**
   * True when every run reads everything again (`replication_method: FullTable`): the stored bookmark
   * only resumes an interrupted pass. With an appending sink each run then adds every row again; the
   * CLI warns about that combination.
   */
  readonly rereadsAll?: boolean;
  /**
   * Called after a page's bookmark was stored in a durable state store (never for a memory store
   * or a run without state). A source that acknowledges its upstream (a replication slot, Kafka
   * offsets) does it here and nowhere earlier, so the upstream never forgets what a crash would
   * still need. A thrown error is logged as a warning; it does not fail the run.
   */
  onCheckpoint?(bookmark: JsonValue, info: CheckpointInfo): Promise<void> | void;
}

export interface WriteContext {
  /** Aborted only when the run is torn down; cancellation lets the current page finish. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

export interface RowFailure {
  /** Position of the failed row in the batch passed to `write`. */
  index: number;
  error: Error | string;
}

export interface WriteResult {
  /** Rows that were not written. Rows not listed here were written. */
  failed?: RowFailure[];
}

/** How the run that used a sink ended; `ok` is the only outcome after which staged output is committed. */
export interface CloseOutcome {
  status: 'ok' | 'cancelled' | 'failed';
}

export interface CommitScope {
  /** The state key of the run: one watermark per scope. */
  scope: string;
  /** An opaque, monotonically increasing token the sink stores atomically with the rows. */
  token: string;
}

export interface Sink {
  /**
   * Write a batch. A thrown error means the whole batch failed; per-row failures are reported in
   * the result. Must not be assumed durable until `flush()` resolves.
   */
  write(records: FaucetRecord[], ctx: WriteContext): Promise<WriteResult | undefined | void>;
  /** Make everything written so far durable. */
  flush?(): Promise<void>;
  /**
   * Release resources. Whoever created the sink calls it once, after the run, passing how the run
   * ended so a sink that stages output (overwrite mode) commits it only after a successful run.
   */
  close?(outcome?: CloseOutcome): Promise<void>;
  /** Rows per write call; pages are split into batches of this size (default: the page). */
  readonly batchSize?: number;
  /**
   * True when writing the same batch twice has the effect of writing it once (keyed upsert).
   * Only then does the engine retry a failed `write`.
   */
  readonly idempotentWrites?: boolean;
  /** True when written rows are only ever added (append mode): rows read again are written again. */
  readonly appends?: boolean;
  /** Effectively-once: commit rows and token in one atomic step. */
  writeIdempotent?(
    records: FaucetRecord[],
    commit: CommitScope,
    ctx: WriteContext,
  ): Promise<WriteResult | undefined | void>;
  /** Effectively-once: the last token committed for a scope, or undefined. */
  lastCommittedToken?(scope: string): Promise<string | undefined>;
}

/** Releases a lock taken with `StateStore.lock`. Safe to call more than once. */
export type ReleaseLock = () => Promise<void>;

export interface StateStore {
  get(key: string): Promise<JsonValue | undefined>;
  /** Atomically replace the value under key: readers see the old or the new value, never a mix. */
  put(key: string, value: JsonValue): Promise<void>;
  delete(key: string): Promise<void>;
  list(prefix?: string): Promise<string[]>;
  /**
   * Exclusive lock on key for one run. Throws `StateLockedError` (naming key and holder) when
   * another live holder has it. Stores with a TTL keep it alive until released.
   */
  lock?(key: string, ttlMs: number): Promise<ReleaseLock>;
  close?(): Promise<void>;
  /** False for stores that forget on exit (memory). Effectively-once refuses them. */
  readonly durable: boolean;
}

/**
 * A per-record function: return a record (map), an array (explode) or null (filter out).
 * Synchronous by design: it runs on the hot path for every record.
 */
export type Transform = (record: FaucetRecord) => FaucetRecord | FaucetRecord[] | null;
