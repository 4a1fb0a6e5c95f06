/**
 * Test doubles for the engine tests. They model durability honestly: rows a sink accepted but has
 * not flushed are lost when the "process" crashes (a new sink instance is built over the same
 * durable storage and the unflushed buffer is dropped).
 */
import type {
  CommitScope,
  FaucetRecord,
  JsonValue,
  Page,
  ReleaseLock,
  Sink,
  Source,
  SourceContext,
  StateStore,
  WriteResult,
} from '../src/index.js';
import { StateLockedError } from '../src/index.js';

export class Boom extends Error {
  constructor(where: string) {
    super(`injected failure: ${where}`);
    this.name = 'Boom';
  }
}

export interface CountingSourceOptions {
  total: number;
  pageSize?: number;
  /** Attach `{offset}` to every page (default) or only to the last one. */
  bookmarks?: 'every' | 'last' | 'none';
  /** Throw instead of yielding this 1-based page (counted within one run). */
  failAtPage?: number;
  /** Called before each page is yielded (1-based page number within the run). */
  onPage?: (page: number) => void;
  record?: (id: number) => FaucetRecord;
}

/** A lazy source of records {id: 0..total-1}; bookmark = {offset: next id}. Deterministic. */
export function countingSource(options: CountingSourceOptions): Source & { reads: number } {
  const source = {
    reads: 0,
    deterministic: true,
    async *read(ctx: SourceContext): AsyncIterable<Page> {
      const pageSize = options.pageSize ?? ctx.batchSize;
      const start = (ctx.bookmark as { offset?: number } | undefined)?.offset ?? 0;
      let page = 0;
      for (let offset = start; offset < options.total; offset += pageSize) {
        page++;
        if (options.failAtPage === page) throw new Boom(`source page ${page}`);
        options.onPage?.(page);
        const end = Math.min(offset + pageSize, options.total);
        const records: FaucetRecord[] = [];
        for (let id = offset; id < end; id++) records.push(options.record ? options.record(id) : { id });
        source.reads += records.length;
        const last = end >= options.total;
        const mode = options.bookmarks ?? 'every';
        if (mode === 'every' || (mode === 'last' && last)) yield { records, bookmark: { offset: end } };
        else yield { records };
      }
    },
  };
  return source;
}

/** Durable storage shared by successive sink instances ("process restarts"). */
export interface SinkStorage {
  rows: FaucetRecord[];
  tokens: Map<string, string>;
}

export function newStorage(): SinkStorage {
  return { rows: [], tokens: new Map() };
}

export interface RecordingSinkOptions {
  /** Throw from write on this 1-based write call. */
  failWriteAt?: number;
  /** Throw from flush on this 1-based flush call; `afterCommit` makes the flush durable first. */
  failFlushAt?: number;
  failFlushAfterCommit?: boolean;
  /** Rows for which write reports a per-row failure. */
  rejectRow?: (record: FaucetRecord) => boolean;
  /** Offer the effectively-once capability. */
  idempotent?: boolean;
  /** Throw from writeIdempotent on this 1-based call (nothing committed). */
  failCommitAt?: number;
  onFlush?: (n: number) => void;
  batchSize?: number;
}

export function recordingSink(storage: SinkStorage, options: RecordingSinkOptions = {}) {
  let buffer: FaucetRecord[] = [];
  let writes = 0;
  let flushes = 0;
  let commits = 0;
  const sink: Sink & { writes: () => number; flushes: () => number; buffered: () => number } = {
    writes: () => writes,
    flushes: () => flushes,
    buffered: () => buffer.length,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    async write(records): Promise<WriteResult> {
      writes++;
      if (options.failWriteAt === writes) throw new Boom(`write ${writes}`);
      const failed: { index: number; error: Error }[] = [];
      records.forEach((record, index) => {
        if (options.rejectRow?.(record))
          failed.push({ index, error: new Error(`row ${String(record.id)} rejected`) });
        else buffer.push(record);
      });
      return { failed };
    },
    async flush() {
      flushes++;
      options.onFlush?.(flushes);
      if (options.failFlushAt === flushes) {
        if (options.failFlushAfterCommit) {
          storage.rows.push(...buffer);
          buffer = [];
        }
        throw new Boom(`flush ${flushes}`);
      }
      storage.rows.push(...buffer);
      buffer = [];
    },
  };
  if (options.idempotent) {
    // Rows and token commit atomically (a transaction), independent of flush.
    sink.writeIdempotent = async (records: FaucetRecord[], commit: CommitScope) => {
      commits++;
      if (options.failCommitAt === commits) throw new Boom(`commit ${commits}`);
      storage.rows.push(...records);
      storage.tokens.set(commit.scope, commit.token);
      return undefined;
    };
    sink.lastCommittedToken = async (scope: string) => storage.tokens.get(scope);
  }
  return sink;
}

export interface TestStoreOptions {
  failPutAt?: number;
  durable?: boolean;
}

/** A Map-backed store that survives "restarts" (pass the same map) and can fail a put. */
export function testStore(map: Map<string, JsonValue>, options: TestStoreOptions = {}) {
  let puts = 0;
  const locks = new Set<string>();
  const store: StateStore & { puts: () => number } = {
    durable: options.durable ?? true,
    puts: () => puts,
    async get(key) {
      const value = map.get(key);
      return value === undefined ? undefined : structuredClone(value);
    },
    async put(key, value) {
      puts++;
      if (options.failPutAt === puts) throw new Boom(`state put ${puts}`);
      map.set(key, structuredClone(value));
    },
    async delete(key) {
      map.delete(key);
    },
    async list(prefix = '') {
      return [...map.keys()].filter((k) => k.startsWith(prefix)).sort();
    },
    async lock(key): Promise<ReleaseLock> {
      if (locks.has(key)) throw new StateLockedError(key, 'another test run');
      locks.add(key);
      return async () => {
        locks.delete(key);
      };
    },
  };
  return store;
}

/** Count of each id in rows. */
export function idCounts(rows: FaucetRecord[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const row of rows) counts.set(row.id as number, (counts.get(row.id as number) ?? 0) + 1);
  return counts;
}

export function duplicateCount(rows: FaucetRecord[]): number {
  let dups = 0;
  for (const n of idCounts(rows).values()) dups += n - 1;
  return dups;
}

export function missingIds(rows: FaucetRecord[], total: number): number[] {
  const counts = idCounts(rows);
  const missing: number[] = [];
  for (let id = 0; id < total; id++) if (!counts.has(id)) missing.push(id);
  return missing;
}
