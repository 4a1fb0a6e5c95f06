/**
 * The postgres sink. Each `write` is one transaction: multi-row INSERT (or COPY) statements, upserts
 * or deletes by key, committed before `write` resolves, so `flush()` has nothing left to do. A write
 * that is a single statement is sent without BEGIN and COMMIT: a statement is atomic on its own.
 *
 * Per-row failures: keys and values that cannot work are reported before anything is sent; when a
 * statement still fails with a data error (SQLSTATE class 22, 23 or 21000) the transaction is
 * rolled back and the batch written again with a binary search inside SAVEPOINTs, which finds the bad
 * rows in about 2·k·log2(n) statements (k bad rows in n) and writes all the others.
 */
import {
  CONNECTOR,
  createOwnedPool,
  failureOf,
  guardClient,
  type OwnedPool,
  parseQualifiedName,
  type ServerError,
  serverName,
} from '@faucet/common-postgres';
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
import type pg from 'pg';
import {
  isRowDataError,
  type PostgresSinkPool,
  poolOverClient,
  serverMessage,
  wrapPgError,
} from './client.js';
import { createCommitTokens, pageRejected } from './commit-token.js';
import { type PostgresSinkConfig, type PostgresSinkConfigInput, postgresSinkConfigSchema } from './config.js';
import { createRowPreparer, rowError } from './rows.js';
import { findTable } from './table.js';
import { resolveTarget, type Target } from './target.js';
import { createUnitWriter } from './units.js';

export interface PostgresSinkOptions {
  /** A pool to use instead of one made from `connection_url` (not ended by `close()`). */
  pool?: PostgresSinkPool;
  /** A single connected client to use (not closed by `close()`). */
  client?: pg.ClientBase;
  logger?: Logger;
  /** Scrubs secrets from messages (default: the password of `connection_url`, and the URL itself). */
  redactor?: Redactor;
}

/** The sink, plus a `check()` probe (connect, find the table, its key and unique index). */
export interface PostgresSink extends Sink {
  check(): Promise<void>;
}

function parseConfig(input: PostgresSinkConfigInput): PostgresSinkConfig {
  const result = postgresSinkConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    { context: 'invalid config for sink "postgres"' },
  );
}

export function createPostgresSink(
  input: PostgresSinkConfigInput,
  options: PostgresSinkOptions = {},
): PostgresSink {
  const config = parseConfig(input);
  const logger = options.logger ?? silentLogger;
  const redactor = options.redactor ?? Redactor.forConfig(config).add(config.connection_url);
  const server = serverName(config.connection_url);
  const parts = parseQualifiedName(config.table);
  const display = JSON.stringify(config.table);
  const owned: OwnedPool | undefined =
    options.pool || options.client
      ? undefined
      : createOwnedPool(
          {
            connectionUrl: config.connection_url,
            max: config.max_connections,
            connectTimeoutMs: config.connect_timeout_ms,
            applicationName: 'faucet-sink-postgres',
            logName: 'postgres sink',
          },
          logger,
          redactor,
        );
  const pool: PostgresSinkPool =
    options.pool ?? (options.client ? poolOverClient(options.client) : (owned as OwnedPool).pool);
  const mode = config.write_mode;
  let target: Target | undefined;
  let closed = false;
  const prepare = createRowPreparer(config, logger);
  const rejected = (error: ServerError): SinkError =>
    rowError(redactor.redact(`postgres sink: ${display} rejected the row: ${serverMessage(error)}`), error);
  const units = createUnitWriter({ writeMethod: config.write_method, key: config.key, rejected });
  const tokens = createCommitTokens(parts, () => target);

  async function withClient<T>(action: string, run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (closed) throw new SinkError('postgres sink: used after close()', { connector: CONNECTOR });
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw wrapPgError(error, { server, action, redactor });
    }
    guardClient(client);
    let broken = false;
    try {
      return await run(client);
    } catch (error) {
      const wrapped = wrapPgError(failureOf(client, error), { server, action, redactor });
      broken = wrapped.code === 'CONNECTION_FAILED';
      if (!broken) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
      }
      throw wrapped;
    } finally {
      client.release(broken ? true : undefined);
    }
  }

  /** The table's columns, creating the table from `records` first when allowed; cached. */
  async function ensureTarget(client: pg.PoolClient, records?: readonly FaucetRecord[]): Promise<Target> {
    target ??= await resolveTarget(client, { config, parts, server, logger }, records);
    return target;
  }

  async function writeBatch(records: FaucetRecord[], commit?: CommitScope): Promise<WriteResult> {
    if (records.length === 0 && !commit) return {};
    const action = `writing ${records.length} rows to ${display}`;
    return withClient(action, async (client) => {
      if (records.length === 0 && commit) {
        // An empty checkpoint page moves only the token; the table may not even exist yet.
        const schema = await tokens.schema(client);
        await tokens.ensureTable(client, schema);
        await tokens.store(client, schema, commit);
        return {};
      }
      const t = await ensureTarget(client, records);
      const { units: batch, failures } = prepare(records, t);
      if (commit && failures.length > 0) throw pageRejected(display, failures);
      if (commit) await tokens.ensureTable(client, t.schema);
      // One statement is atomic by itself: no BEGIN and COMMIT round trips around it.
      const [first] = batch;
      const alone = !commit && batch.length === 1 && first !== undefined && units.oneStatement(first);
      let open = !alone;
      if (open) await client.query('BEGIN');
      try {
        for (const unit of batch) await units.run(client, t, unit);
      } catch (error) {
        if (!isRowDataError(error)) throw error;
        if (open) await client.query('ROLLBACK');
        if (commit) throw pageRejected(display, [{ index: -1, error: rejected(error) }]);
        // Nothing was written: find the rows the server refuses, write the others.
        await client.query('BEGIN');
        open = true;
        for (const unit of batch) await units.isolate(client, t, unit, failures);
      }
      if (commit) await tokens.store(client, t.schema, commit);
      if (open) await client.query('COMMIT');
      failures.sort((a, b) => a.index - b.index);
      return failures.length > 0 ? { failed: failures } : {};
    });
  }

  return {
    batchSize: config.batch_size,
    idempotentWrites: mode !== 'append',
    appends: mode === 'append',
    write: (records) => writeBatch(records),
    writeIdempotent: (records, commit) => writeBatch(records, commit),
    async lastCommittedToken(scope) {
      return withClient('reading the commit token', (client) => tokens.last(client, scope));
    },
    // Every write commits before it resolves: there is never anything left to make durable.
    async flush() {},
    async check() {
      await withClient(`checking table ${display}`, async (client) => {
        const ref = await findTable(client, parts);
        if (!ref && config.create_table) return;
        await ensureTarget(client);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await owned?.end();
    },
  };
}
