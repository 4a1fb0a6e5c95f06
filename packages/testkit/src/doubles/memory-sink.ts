import type { CommitScope, FaucetRecord, RowFailure, Sink, WriteResult } from '@faucet/core';
import { keyText } from '../dataset.js';

/**
 * What a memory sink has made durable. It outlives sink instances: a new `memorySink` over the same
 * storage is the same destination after a process restart, and rows written but not flushed by the
 * old instance are gone, as they would be after a crash.
 */
export interface MemorySinkStorage {
  rows: FaucetRecord[];
  /** Effectively-once commit tokens by scope. */
  tokens: Map<string, string>;
  /** Row position by key, for keyed mode. */
  positions: Map<string, number>;
}

export function memorySinkStorage(): MemorySinkStorage {
  return { rows: [], tokens: new Map(), positions: new Map() };
}

export interface MemorySinkOptions {
  storage?: MemorySinkStorage;
  /** `append` (default) keeps every row; `keyed` upserts by `key`, so writing a row twice keeps one. */
  mode?: 'append' | 'keyed';
  /** The key field of keyed mode (default `id`). */
  key?: string;
  /** Rows per write call the engine should send. */
  batchSize?: number;
  /** Offer writeIdempotent + lastCommittedToken: rows and token commit in one atomic step. */
  effectivelyOnce?: boolean;
  /** Reject a row (reported as a per-row failure, not written) when this returns a message. */
  rejectRow?: (record: FaucetRecord) => string | undefined;
}

export interface MemorySink extends Sink {
  readonly storage: MemorySinkStorage;
  /** Rows written but not flushed yet. */
  readonly buffered: number;
  readonly writes: number;
  readonly flushes: number;
}

/** An honest in-memory sink: rows are durable only once flushed (or committed, in effectively-once mode). */
export function memorySink(options: MemorySinkOptions = {}): MemorySink {
  const storage = options.storage ?? memorySinkStorage();
  const keyField = options.key ?? 'id';
  const keyed = options.mode === 'keyed';
  let buffer: FaucetRecord[] = [];
  let writes = 0;
  let flushes = 0;

  const persist = (rows: readonly FaucetRecord[]): void => {
    for (const row of rows) {
      const k = keyed ? keyText(row[keyField]) : undefined;
      const at = k === undefined ? undefined : storage.positions.get(k);
      if (at !== undefined) storage.rows[at] = row;
      else {
        if (k !== undefined) storage.positions.set(k, storage.rows.length);
        storage.rows.push(row);
      }
    }
  };

  const accept = (records: FaucetRecord[]): { accepted: FaucetRecord[]; failed: RowFailure[] } => {
    const accepted: FaucetRecord[] = [];
    const failed: RowFailure[] = [];
    records.forEach((record, index) => {
      const problem = options.rejectRow?.(record);
      if (problem === undefined) accepted.push(structuredClone(record));
      else failed.push({ index, error: new Error(problem) });
    });
    return { accepted, failed };
  };

  const sink: MemorySink = {
    storage,
    get buffered() {
      return buffer.length;
    },
    get writes() {
      return writes;
    },
    get flushes() {
      return flushes;
    },
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ...(keyed ? { idempotentWrites: true } : {}),
    async write(records): Promise<WriteResult> {
      writes++;
      const { accepted, failed } = accept(records);
      buffer.push(...accepted);
      return failed.length > 0 ? { failed } : {};
    },
    async flush() {
      flushes++;
      persist(buffer);
      buffer = [];
    },
    async close() {
      buffer = [];
    },
  };
  if (options.effectivelyOnce) {
    sink.writeIdempotent = async (records: FaucetRecord[], commit: CommitScope): Promise<WriteResult> => {
      writes++;
      const { accepted, failed } = accept(records);
      // One atomic step: the rows and the token land together.
      persist(accepted);
      storage.tokens.set(commit.scope, commit.token);
      return failed.length > 0 ? { failed } : {};
    };
    sink.lastCommittedToken = async (scope: string) => storage.tokens.get(scope);
  }
  return sink;
}
