/**
 * The bigquery sink. Append mode writes with `insertAll` (insert-all.ts) or with load jobs (load.ts);
 * upsert and delete stage each page with a load job and apply it with one MERGE (merge.ts).
 *
 * - insert_all: each `write` is sent before it resolves; per-row `insertErrors` come back as per-row
 *   failures, every other row is written. Under effectively-once the insertIds come from the commit
 *   token (BigQuery's de-duplication is best effort: use load for a guarantee).
 * - load, at-least-once: `write` stages rows on disk and `flush` (before every checkpoint) loads them
 *   with one job and waits for it. A failed job fails the run before the checkpoint is stored.
 * - load and MERGE, effectively-once: every page is one job whose id is derived from the commit token
 *   and the page's bytes (tokens.ts): a replayed page meets its own job and is not written twice.
 */

import {
  type CommitScope,
  ConfigError,
  type FaucetRecord,
  type Logger,
  Redactor,
  type Sink,
  SinkError,
  silentLogger,
  type WriteResult,
} from '@faucet/core';
import type { BigQuery } from '@google-cloud/bigquery';
import { type BigQuerySinkConfig, type BigQuerySinkConfigInput, bigquerySinkConfigSchema } from './config.js';
import { createContext } from './context.js';
import { CONNECTOR } from './errors.js';
import { writeInsertAll } from './insert-all.js';
import { lastJobToken } from './jobs.js';
import { createLoader } from './load.js';
import { createMerger } from './merge.js';
import { createTargetManager } from './target.js';
import { scopeLabel } from './tokens.js';

export interface BigQuerySinkOptions {
  /** A client to use instead of one made from the config (with its own credentials and endpoint). */
  client?: BigQuery;
  logger?: Logger;
  /** Scrubs secrets from messages (default: the key JSON of the config, and the key it holds). */
  redactor?: Redactor;
}

/** The sink, plus a `check()` probe (credentials, the table or its dataset, the key columns). */
export interface BigQuerySink extends Sink {
  check(): Promise<void>;
  /** Drop the staging table (upsert / delete) and forget rows staged but never flushed. */
  close(): Promise<void>;
}

function parseConfig(input: BigQuerySinkConfigInput): BigQuerySinkConfig {
  const result = bigquerySinkConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    { context: 'invalid config for sink "bigquery"' },
  );
}

export function createBigQuerySink(
  input: BigQuerySinkConfigInput,
  options: BigQuerySinkOptions = {},
): BigQuerySink {
  const config = parseConfig(input);
  const logger = options.logger ?? silentLogger;
  const redactor = options.redactor ?? new Redactor();
  if (config.auth.type === 'service_account_key') redactor.add(config.auth.json);
  const lifetime = new AbortController();
  const ctx = createContext(config, { logger, redactor, client: options.client, signal: lifetime.signal });
  const targets = createTargetManager(ctx);
  const loader = createLoader(ctx, targets);
  const merger = createMerger(ctx, targets);
  const { ref } = ctx;
  // insertAll has no job that could carry a commit token.
  const jobsCarryTokens = config.write_mode !== 'append' || config.write_method === 'load';
  let closed = false;

  const guard = (): void => {
    if (closed) throw new SinkError('bigquery sink: used after close()', { connector: CONNECTOR });
  };

  const writeBatch = async (records: FaucetRecord[], commit?: CommitScope): Promise<WriteResult> => {
    guard();
    if (config.write_mode !== 'append') return merger.write(records, commit);
    if (config.write_method === 'load') return loader.write(records, commit);
    return writeInsertAll(ctx, targets, records, commit);
  };

  return {
    batchSize: config.batch_size,
    // MERGE by key: writing a page twice leaves what writing it once does.
    idempotentWrites: config.write_mode !== 'append',
    write: (records) => writeBatch(records),
    writeIdempotent: (records, commit) => writeBatch(records, commit),
    async lastCommittedToken(scope) {
      guard();
      // Without jobs a resumed run re-sends its pages, with the same insertIds.
      if (!jobsCarryTokens) return undefined;
      const table = await targets.current();
      // No table, nothing committed to it; jobs older than the table wrote into a dropped one.
      if (!table) return undefined;
      return lastJobToken(ctx, scopeLabel(ref, scope), config.token_scan_jobs, table.createdAt);
    },
    async flush() {
      guard();
      await loader.flush();
    },
    async check() {
      guard();
      // Reads the table (or learns that create_table will make it in an existing dataset).
      await targets.exists();
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        // Rows staged but never flushed were never confirmed to the engine: the next run re-reads them.
        await loader.discard();
        await merger.close();
      } finally {
        lifetime.abort();
      }
    },
  };
}
