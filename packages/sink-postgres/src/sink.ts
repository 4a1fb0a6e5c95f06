/**
 * The postgres sink. Each `write` is one transaction: multi-row INSERT (or COPY) statements, upserts
 * or deletes by key, committed before `write` resolves, so `flush()` has nothing left to do.
 *
 * Per-row failures: keys and values that cannot work are reported before anything is sent; when a
 * statement still fails with a data error (SQLSTATE class 22, 23 or 21000) the transaction is
 * rolled back and the batch written again with a binary search inside SAVEPOINTs, which finds the bad
 * rows in about 2·k·log2(n) statements (k bad rows in n) and writes all the others.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CONNECTOR,
  createOwnedPool,
  failureOf,
  guardClient,
  isServerError,
  type OwnedPool,
  parseQualifiedName,
  quoteIdent,
  type ServerError,
  serverName,
} from '@faucet/common-postgres';
import {
  type CommitScope,
  ConfigError,
  type FaucetRecord,
  type JsonValue,
  type Logger,
  Redactor,
  type RowFailure,
  type Sink,
  SinkError,
  silentLogger,
  type WriteResult,
} from '@faucet/core';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  isRowDataError,
  type PostgresSinkPool,
  poolOverClient,
  serverMessage,
  wrapPgError,
} from './client.js';
import { type PostgresSinkConfig, type PostgresSinkConfigInput, postgresSinkConfigSchema } from './config.js';
import {
  commitTokenTable,
  copySql,
  createCommitTokenSql,
  deleteSql,
  insertSql,
  MAX_PARAMS,
  selectCommitTokenSql,
  upsertCommitTokenSql,
} from './statements.js';
import { createTableSql, currentSchema, findTable, hasUniqueIndex, loadColumns } from './table.js';
import { type Column, type Converter, converterFor, copyText, ValueError } from './values.js';

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

interface Target {
  schema: string;
  qualified: string;
  columns: Map<string, Column>;
  /** Writable column names in table order. */
  order: string[];
  converters: Map<string, Converter>;
  keyColumns: Column[];
}

interface PreparedRow {
  /** Position in the batch given to `write`. */
  index: number;
  values: (string | null)[];
}

interface Unit {
  action: 'insert' | 'upsert' | 'delete';
  columns: string[];
  rows: PreparedRow[];
}

const ALREADY_EXISTS = new Set(['42P07', '23505']);

function parseConfig(input: PostgresSinkConfigInput): PostgresSinkConfig {
  const result = postgresSinkConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    { context: 'invalid config for sink "postgres"' },
  );
}

const rowError = (message: string, cause?: unknown): SinkError =>
  new SinkError(message, {
    code: 'SINK_ROW_REJECTED',
    connector: CONNECTOR,
    ...(cause === undefined ? {} : { cause }),
  });

/** Key values compare as text, so an int8 key sent once as `7` and once as `"7"` is one row. */
const keyText = (values: readonly JsonValue[]): string =>
  JSON.stringify(values.map((v) => (typeof v === 'number' ? String(v) : v)));

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
  const key = config.key;
  const jsonbColumn = config.column_mapping === 'auto' ? undefined : config.column_mapping.jsonb;
  const deleteValues: JsonValue[] = config.delete_marker?.values ?? [true];
  const warnedUnknown = new Set<string>();
  let target: Target | undefined;
  let tokenTableReady = false;
  let closed = false;

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
    if (target) return target;
    let ref = await findTable(client, parts);
    if (!ref) {
      if (!config.create_table || !records || records.length === 0) {
        throw new SinkError(
          `postgres sink (${server}): table ${display} does not exist; create it or set create_table: true`,
          { connector: CONNECTOR },
        );
      }
      const schema = parts.length === 2 ? (parts[0] as string) : await currentSchema(client);
      const name = parts[parts.length - 1] as string;
      const sql = createTableSql({
        qualified: `${quoteIdent(schema)}.${quoteIdent(name)}`,
        records,
        key,
        primaryKey: mode !== 'append',
        ...(jsonbColumn === undefined ? {} : { jsonbColumn }),
      });
      try {
        await client.query(sql);
      } catch (error) {
        if (!isServerError(error) || !ALREADY_EXISTS.has(error.code)) throw error;
      }
      logger.info('postgres sink: created the target table', { table: config.table });
      ref = await findTable(client, [schema, name]);
      if (!ref) throw new SinkError(`postgres sink: table ${display} vanished after it was created`);
    }
    const columns = await loadColumns(client, ref.oid);
    const byName = new Map(columns.map((c) => [c.name, c]));
    const problems: string[] = [];
    for (const k of key) if (!byName.has(k)) problems.push(`key column "${k}" is not a column of it`);
    if (jsonbColumn !== undefined) {
      const column = byName.get(jsonbColumn);
      if (!column) problems.push(`column_mapping.jsonb column "${jsonbColumn}" is not a column of it`);
      else if (column.baseOid !== 3802 && column.baseOid !== 114) {
        problems.push(`column_mapping.jsonb column "${jsonbColumn}" is ${column.typeName}, not jsonb`);
      }
    }
    if (problems.length === 0 && mode === 'upsert' && !(await hasUniqueIndex(client, ref.oid, key))) {
      problems.push(
        `upsert needs a primary key or unique index on exactly (${key.join(', ')}), and there is none ` +
          '(INSERT … ON CONFLICT requires one)',
      );
    }
    if (problems.length > 0) {
      throw new SinkError(`postgres sink (${server}): table ${display}: ${problems.join('; ')}`, {
        connector: CONNECTOR,
      });
    }
    target = {
      schema: ref.schema,
      qualified: `${quoteIdent(ref.schema)}.${quoteIdent(ref.name)}`,
      columns: byName,
      order: columns.map((c) => c.name),
      converters: new Map(columns.map((c) => [c.name, converterFor(c)])),
      keyColumns: key.map((k) => byName.get(k) as Column),
    };
    return target;
  }

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

  /** Validate and convert a batch; group rows by action and column set, one statement kind each. */
  function prepare(records: readonly FaucetRecord[], t: Target): { units: Unit[]; failures: RowFailure[] } {
    const failures: RowFailure[] = [];
    const entries: { index: number; record: FaucetRecord; del: boolean }[] = [];
    if (mode === 'append') {
      records.forEach((record, index) => {
        entries.push({ index, record, del: false });
      });
    } else {
      // Last row wins within a batch: one statement cannot touch a key twice.
      const latest = new Map<string, { index: number; record: FaucetRecord; del: boolean }>();
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
    const units = new Map<string, Unit>();
    for (const { index, record, del } of entries) {
      let columns: string[];
      if (del) columns = [...key];
      else if (jsonbColumn !== undefined) columns = [...key.filter((k) => k in record), jsonbColumn];
      else {
        warnUnknown(t, record);
        columns = t.order.filter((c) => record[c] !== undefined);
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
      const action = del ? 'delete' : mode === 'upsert' ? 'upsert' : 'insert';
      const signature = `${action}\u0000${columns.join('\u0000')}`;
      let unit = units.get(signature);
      if (!unit) {
        unit = { action, columns, rows: [] };
        units.set(signature, unit);
      }
      unit.rows.push({ index, values });
    }
    return { units: [...units.values()], failures };
  }

  async function copyRows(client: pg.PoolClient, sql: string, rows: readonly PreparedRow[]): Promise<void> {
    async function* chunks(): AsyncGenerator<string> {
      let chunk = '';
      for (const row of rows) {
        chunk += `${row.values.map(copyText).join('\t')}\n`;
        if (chunk.length >= 65_536) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
    }
    await pipeline(Readable.from(chunks()), client.query(copyFrom(sql)));
  }

  async function runUnit(client: pg.PoolClient, t: Target, unit: Unit): Promise<void> {
    if (unit.action === 'insert' && config.write_method === 'copy') {
      await copyRows(client, copySql(t.qualified, unit.columns), unit.rows);
      return;
    }
    const per = Math.max(1, Math.floor(MAX_PARAMS / unit.columns.length));
    for (let i = 0; i < unit.rows.length; i += per) {
      const chunk = unit.rows.slice(i, i + per);
      const text =
        unit.action === 'delete'
          ? deleteSql(t.qualified, t.keyColumns, chunk.length)
          : insertSql(t.qualified, unit.columns, chunk.length, unit.action === 'upsert' ? key : undefined);
      await client.query({ text, values: chunk.flatMap((r) => r.values) });
    }
  }

  const rejected = (error: ServerError): SinkError =>
    rowError(redactor.redact(`postgres sink: ${display} rejected the row: ${serverMessage(error)}`), error);

  /** Write a unit inside a savepoint; on a data error split it in halves until the bad rows are alone. */
  async function isolate(
    client: pg.PoolClient,
    t: Target,
    unit: Unit,
    failures: RowFailure[],
  ): Promise<void> {
    await client.query('SAVEPOINT faucet_rows');
    try {
      await runUnit(client, t, unit);
      await client.query('RELEASE SAVEPOINT faucet_rows');
      return;
    } catch (error) {
      if (!isRowDataError(error)) throw error;
      await client.query('ROLLBACK TO SAVEPOINT faucet_rows');
      await client.query('RELEASE SAVEPOINT faucet_rows');
      const [only] = unit.rows;
      if (unit.rows.length === 1 && only) {
        failures.push({ index: only.index, error: rejected(error) });
        return;
      }
    }
    const mid = Math.ceil(unit.rows.length / 2);
    await isolate(client, t, { ...unit, rows: unit.rows.slice(0, mid) }, failures);
    await isolate(client, t, { ...unit, rows: unit.rows.slice(mid) }, failures);
  }

  async function ensureTokenTable(client: pg.PoolClient, schema: string): Promise<void> {
    if (tokenTableReady) return;
    try {
      await client.query(createCommitTokenSql(schema));
    } catch (error) {
      if (!isServerError(error) || !ALREADY_EXISTS.has(error.code)) throw error;
    }
    tokenTableReady = true;
  }

  async function writeBatch(records: FaucetRecord[], commit?: CommitScope): Promise<WriteResult> {
    if (records.length === 0 && !commit) return {};
    const action = `writing ${records.length} rows to ${display}`;
    return withClient(action, async (client) => {
      if (records.length === 0 && commit) {
        // An empty checkpoint page moves only the token; the table may not even exist yet.
        const schema = await tokenSchema(client);
        await ensureTokenTable(client, schema);
        await client.query({ text: upsertCommitTokenSql(schema), values: [commit.scope, commit.token] });
        return {};
      }
      const t = await ensureTarget(client, records);
      const { units, failures } = prepare(records, t);
      if (commit && failures.length > 0) throw pageRejected(failures);
      if (commit) await ensureTokenTable(client, t.schema);
      await client.query('BEGIN');
      try {
        for (const unit of units) await runUnit(client, t, unit);
      } catch (error) {
        if (!isRowDataError(error)) throw error;
        await client.query('ROLLBACK');
        if (commit) throw pageRejected([{ index: -1, error: rejected(error) }]);
        await client.query('BEGIN');
        for (const unit of units) await isolate(client, t, unit, failures);
      }
      if (commit) {
        await client.query({ text: upsertCommitTokenSql(t.schema), values: [commit.scope, commit.token] });
      }
      await client.query('COMMIT');
      failures.sort((a, b) => a.index - b.index);
      return failures.length > 0 ? { failed: failures } : {};
    });
  }

  /** Effectively-once pages commit whole or not at all: a bad row fails the page, nothing is written. */
  function pageRejected(failures: readonly RowFailure[]): SinkError {
    const first = failures[0];
    const where = first && first.index >= 0 ? `row ${first.index}` : 'a row';
    const message = first ? (first.error instanceof Error ? first.error.message : first.error) : '';
    return new SinkError(
      `postgres sink: ${display} rejected ${where} of an effectively-once page, so none of it was written ` +
        `(${message})`,
      { connector: CONNECTOR, retryable: false },
    );
  }

  /** The schema holding `_faucet_commit_token`: the target table's. */
  async function tokenSchema(client: pg.PoolClient): Promise<string> {
    if (target) return target.schema;
    if (parts.length === 2) return parts[0] as string;
    return (await findTable(client, parts))?.schema ?? (await currentSchema(client));
  }

  return {
    batchSize: config.batch_size,
    idempotentWrites: mode !== 'append',
    appends: mode === 'append',
    write: (records) => writeBatch(records),
    writeIdempotent: (records, commit) => writeBatch(records, commit),
    async lastCommittedToken(scope) {
      return withClient('reading the commit token', async (client) => {
        const schema = await tokenSchema(client);
        const exists = await client.query<{ found: boolean }>({
          text: 'SELECT to_regclass($1) IS NOT NULL AS found',
          values: [commitTokenTable(schema)],
        });
        if (!exists.rows[0]?.found) return undefined;
        const { rows } = await client.query<{ token: string }>({
          text: selectCommitTokenSql(schema),
          values: [scope],
        });
        return rows[0]?.token;
      });
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
