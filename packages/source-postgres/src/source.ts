/**
 * The postgres source: one server-side cursor per read (`DECLARE … CURSOR` inside a read-only
 * REPEATABLE READ transaction, then `FETCH FORWARD n`), so memory holds one page, never the result.
 *
 * - Incremental: keyset order on (cursor_field, primary_keys…); every page (or every
 *   `checkpoint_interval` rows) carries the last tuple read, and a resumed run starts strictly after
 *   it with a row-value comparison, so rows sharing a cursor value are never split at a boundary.
 * - FullTable with primary keys: keyset order on the keys, a bookmark on every page, the last page
 *   marks the pass completed so the next run starts over.
 * - FullTable without primary keys: one unordered pass, checkpointed only at its end.
 */
import {
  type ArrayType,
  failureOf,
  guardClient,
  loadArrayTypes,
  parseQualifiedName,
  queryTypes,
  quoteQualified,
  serverName,
} from '@faucet/common-postgres';
import {
  ConfigError,
  compareCursor,
  type DiscoveredStream,
  type FaucetRecord,
  type JsonValue,
  type Logger,
  type Page,
  Redactor,
  type Source,
  type SourceContext,
  SourceError,
  silentLogger,
} from '@faucet/core';
import { completedBookmark, type Keyset, keysetBookmark, startFromBookmark } from './bookmark.js';
import {
  createOwnedPool,
  type OwnedPool,
  type PostgresClient,
  type PostgresPool,
  type PostgresPoolClient,
  poolOverClient,
  wrapPgError,
} from './client.js';
import {
  type PostgresSourceConfig,
  type PostgresSourceConfigInput,
  postgresSourceConfigSchema,
} from './config.js';
import { describeTables } from './discover.js';
import { buildReadQuery, fromItem, type StartPoint } from './query.js';

export interface PostgresSourceOptions {
  /** A pool to use instead of one made from `connection_url` (not ended by `close()`). */
  pool?: PostgresPool;
  /** A single connected client to use (not closed by `close()`); reads and checks take turns on it. */
  client?: PostgresClient;
  logger?: Logger;
  /** Scrubs secrets from messages (default: the password of `connection_url`, and the URL itself). */
  redactor?: Redactor;
}

const CURSOR_NAME = 'faucet_read';
const SESSION_SETUP =
  "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; " +
  "SET LOCAL IntervalStyle = 'iso_8601'; SET LOCAL bytea_output = 'hex'; SET LOCAL extra_float_digits = 3";

type Row = JsonValue[];

function parseConfig(input: PostgresSourceConfigInput): PostgresSourceConfig {
  const result = postgresSourceConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    { context: 'invalid config for source "postgres"' },
  );
}

function compareTuples(a: readonly JsonValue[], b: readonly JsonValue[]): number | undefined {
  for (let i = 0; i < a.length; i++) {
    const c = compareCursor(a[i], b[i]);
    if (c === undefined) return undefined;
    if (c !== 0) return c;
  }
  return 0;
}

/** What kind of value a lookback is subtracted as, for a cursor column of the given type. */
function lookbackType(
  cursor: { name: string; typeName: string; category: string },
  lookback: string | number,
): string {
  if (cursor.category === 'N') return 'numeric';
  if (cursor.category === 'T') return 'interval';
  if (cursor.category === 'D') {
    if (typeof lookback === 'string') return 'interval';
    if (cursor.typeName === 'date') return 'integer';
  }
  throw new ConfigError([
    {
      path: 'lookback',
      message:
        `cannot subtract ${JSON.stringify(lookback)} from cursor column "${cursor.name}" of type ` +
        `${cursor.typeName}; use a number for numeric cursors or an interval such as '1 hour' for timestamps`,
    },
  ]);
}

export function createPostgresSource(
  input: PostgresSourceConfigInput,
  options: PostgresSourceOptions = {},
): Source {
  const config = parseConfig(input);
  const logger = options.logger ?? silentLogger;
  const redactor = options.redactor ?? Redactor.forConfig(config).add(config.connection_url);
  const server = serverName(config.connection_url);
  const owned: OwnedPool | undefined =
    options.pool || options.client
      ? undefined
      : createOwnedPool(
          {
            connectionUrl: config.connection_url,
            max: config.max_connections,
            connectTimeoutMs: config.connect_timeout_ms,
            applicationName: 'faucet-source-postgres',
          },
          logger,
          redactor,
        );
  const pool: PostgresPool =
    options.pool ?? (options.client ? poolOverClient(options.client) : (owned as OwnedPool).pool);
  const method = config.replication_method;
  const incremental = method.type === 'Incremental' ? method : undefined;
  const table = config.table;
  const from = table === undefined ? fromItem({ query: config.query ?? '' }) : fromItem({ table });
  const what = table === undefined ? 'the query' : `table ${JSON.stringify(table)}`;
  const keyset: Keyset = {
    kind: incremental ? 'keyset' : 'full_table',
    columns: incremental
      ? [incremental.cursor_field, ...config.primary_keys.filter((k) => k !== incremental.cursor_field)]
      : [...config.primary_keys],
    ...(table === undefined ? {} : { table }),
  };
  // Without primary keys an incremental keyset is the cursor alone: a page boundary inside a run of
  // equal cursor values cannot be a checkpoint (resuming with `>` would skip the rest of the run).
  const tiesPossible = incremental !== undefined && config.primary_keys.length === 0;
  const every = config.checkpoint_interval ?? 1;
  const held = new Set<PostgresPoolClient>();
  let arrayTypes: Map<number, ArrayType> | undefined;
  let closed = false;

  const wrap = (error: unknown, action: string, signal?: AbortSignal) =>
    wrapPgError(error, { server, action, redactor, ...(signal ? { signal } : {}) });

  async function connect(): Promise<PostgresPoolClient> {
    if (closed) throw new SourceError('postgres source: used after close()', { connector: 'postgres' });
    try {
      const client = await pool.connect();
      guardClient(client);
      held.add(client);
      return client;
    } catch (error) {
      throw wrap(error, 'connecting');
    }
  }

  function release(client: PostgresPoolClient, broken: boolean): void {
    held.delete(client);
    try {
      client.release(broken ? true : undefined);
    } catch {
      // a client that cannot be released is gone already
    }
  }

  /** The first point to read from: the stored bookmark, else start_value, else the beginning. */
  function startPoint(bookmark: JsonValue | undefined): StartPoint {
    if (bookmark !== undefined && bookmark !== null) return startFromBookmark(bookmark, keyset);
    if (incremental?.start_value !== undefined)
      return { type: 'after-cursor', value: incremental.start_value };
    return { type: 'beginning' };
  }

  /** With a lookback, a resumed read starts that far before the stored cursor value. */
  async function withLookback(client: PostgresPoolClient, start: StartPoint): Promise<StartPoint> {
    const lookback = config.lookback;
    if (lookback === undefined || !incremental) return start;
    if (start.type !== 'after-key' && start.type !== 'after-cursor') return start;
    const value = start.type === 'after-key' ? (start.values[0] ?? null) : start.value;
    const probe = await client.query({
      text: `SELECT * FROM ${from} AS _faucet_q LIMIT 0`,
      values: config.params,
    });
    const field = probe.fields.find((f) => f.name === incremental.cursor_field);
    if (!field) {
      throw new SourceError(
        `postgres source: cursor_field "${incremental.cursor_field}" is not a column of ${what}`,
        { connector: 'postgres' },
      );
    }
    const type = await client.query({
      text:
        'SELECT format_type(oid, NULL) AS name, typname::text AS typname, typcategory::text AS category ' +
        'FROM pg_type WHERE oid = $1',
      values: [field.dataTypeID],
    });
    const info = type.rows[0] as { name: string; typname: string; category: string };
    const cast = lookbackType(
      { name: field.name, typeName: info.typname, category: info.category },
      lookback,
    );
    return { type: 'lookback', value, cursorType: info.name, lookback, lookbackType: cast };
  }

  async function* read(ctx: SourceContext): AsyncGenerator<Page, void, undefined> {
    const pageSize = Math.max(1, Math.min(config.batch_size, ctx.batchSize));
    let start = startPoint(ctx.bookmark);
    // A lookback re-read never moves the bookmark behind where the last run stopped.
    const floor = start.type === 'after-key' && config.lookback !== undefined ? start.values : undefined;
    const client = await connect();
    let broken = false;
    let inTransaction = false;
    let action = 'preparing the read';
    try {
      arrayTypes ??= await loadArrayTypes(client);
      // The lookback widens a resumed read only; start_value is taken exactly as configured.
      if (ctx.bookmark !== undefined && ctx.bookmark !== null) start = await withLookback(client, start);
      const query = buildReadQuery({
        from,
        params: config.params,
        order: keyset.columns,
        ...(incremental ? { cursor: incremental.cursor_field } : {}),
        start,
      });
      action = `reading ${what}`;
      inTransaction = true;
      await client.query({ text: `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${SESSION_SETUP}` });
      await client.query({
        text: `DECLARE ${CURSOR_NAME} NO SCROLL CURSOR FOR ${query.text}`,
        values: query.values,
      });
      const types = queryTypes(arrayTypes);
      let names: string[] | undefined;
      let keyIndexes: number[] = [];
      const fetchRows = async (count: number): Promise<Row[]> => {
        const result = await client.query({
          text: `FETCH FORWARD ${count} FROM ${CURSOR_NAME}`,
          rowMode: 'array',
          types,
        });
        if (!names) {
          names = result.fields.map((f) => f.name);
          const duplicate = names.find((n, i) => names?.indexOf(n) !== i);
          if (duplicate !== undefined) {
            throw new SourceError(
              `postgres source: ${what} returns two columns named "${duplicate}"; give them distinct aliases`,
              { connector: 'postgres' },
            );
          }
          keyIndexes = keyset.columns.map((c) => names?.indexOf(c) ?? -1);
        }
        return result.rows as Row[];
      };
      const toRecord = (row: Row): FaucetRecord => {
        const record: FaucetRecord = {};
        (names ?? []).forEach((name, i) => {
          record[name] = row[i] ?? null;
        });
        return record;
      };
      const tupleOf = (row: Row): JsonValue[] => keyIndexes.map((i) => row[i] ?? null);
      const bookmarkAfter = (row: Row) => {
        let tuple = tupleOf(row);
        if (floor && (compareTuples(tuple, floor) ?? 0) < 0) tuple = [...floor];
        return keysetBookmark(keyset, tuple);
      };

      const want = pageSize + (tiesPossible ? 1 : 0);
      const buffer: Row[] = [];
      let exhausted = false;
      let sinceCheckpoint = 0;
      let finished = false;
      for (;;) {
        if (ctx.signal.aborted) return;
        if (!exhausted && buffer.length < want) {
          const count = want - buffer.length;
          const rows = await fetchRows(count);
          for (const row of rows) buffer.push(row);
          if (rows.length < count) exhausted = true;
        }
        if (buffer.length === 0) break;
        const rows = buffer.splice(0, pageSize);
        const last = rows[rows.length - 1] as Row;
        const isLast = exhausted && buffer.length === 0;
        sinceCheckpoint += rows.length;
        let bookmark: JsonValue | undefined;
        if (keyset.kind === 'full_table') {
          if (isLast) bookmark = completedBookmark(keyset);
          else if (keyset.columns.length > 0 && sinceCheckpoint >= every) bookmark = bookmarkAfter(last);
        } else {
          const next = buffer[0];
          const tie =
            tiesPossible &&
            next !== undefined &&
            JSON.stringify(next[keyIndexes[0] ?? 0]) === JSON.stringify(last[keyIndexes[0] ?? 0]);
          if (isLast || (sinceCheckpoint >= every && !tie)) bookmark = bookmarkAfter(last);
        }
        if (bookmark !== undefined) sinceCheckpoint = 0;
        const records = rows.map(toRecord);
        yield bookmark === undefined ? { records } : { records, bookmark };
        if (isLast) {
          finished = true;
          break;
        }
      }
      // The pass ended on a full page (or found nothing): an empty page marks it completed.
      if (keyset.kind === 'full_table' && !finished && !ctx.signal.aborted) {
        yield { records: [], bookmark: completedBookmark(keyset) };
      }
    } catch (error) {
      const wrapped = wrap(failureOf(client, error), action, ctx.signal);
      broken = wrapped.code === 'CONNECTION_FAILED';
      throw wrapped;
    } finally {
      if (inTransaction && !broken) {
        try {
          await client.query({ text: 'ROLLBACK' });
        } catch {
          broken = true;
        }
      }
      release(client, broken);
    }
  }

  async function withClient<T>(action: string, run: (client: PostgresPoolClient) => Promise<T>): Promise<T> {
    const client = await connect();
    let broken = false;
    try {
      return await run(client);
    } catch (error) {
      const wrapped = wrap(failureOf(client, error), action);
      broken = wrapped.code === 'CONNECTION_FAILED';
      throw wrapped;
    } finally {
      release(client, broken);
    }
  }

  async function check(): Promise<void> {
    await withClient(`checking ${what}`, async (client) => {
      if (table !== undefined) {
        const name = quoteQualified(parseQualifiedName(table));
        const found = await client.query({
          text:
            'SELECT to_regclass($1) IS NOT NULL AS found, CASE WHEN to_regclass($1) IS NULL THEN NULL ' +
            "ELSE has_table_privilege(to_regclass($1), 'SELECT') END AS allowed",
          values: [name],
        });
        const row = found.rows[0] as { found: boolean; allowed: boolean | null };
        if (!row.found) {
          throw new SourceError(
            `postgres source (${server}): table ${JSON.stringify(table)} does not exist`,
            {
              connector: 'postgres',
            },
          );
        }
        if (row.allowed === false) {
          throw new SourceError(
            `postgres source (${server}): no SELECT privilege on table ${JSON.stringify(table)}`,
            { connector: 'postgres' },
          );
        }
      }
      const probe = await client.query({
        text: `SELECT * FROM ${from} AS _faucet_q LIMIT 0`,
        values: config.params,
      });
      const columns = new Set(probe.fields.map((f) => f.name));
      const missing = keyset.columns.filter((c) => !columns.has(c));
      if (missing.length > 0) {
        throw new SourceError(
          `postgres source (${server}): ${what} has no column ` +
            `${missing.map((c) => JSON.stringify(c)).join(', ')} ` +
            '(named in cursor_field or primary_keys)',
          { connector: 'postgres' },
        );
      }
    });
  }

  async function discover(): Promise<DiscoveredStream[]> {
    return withClient('discovering tables', async (client) => {
      arrayTypes ??= await loadArrayTypes(client);
      return describeTables(client, arrayTypes);
    });
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    for (const client of [...held]) release(client, true);
    await owned?.end();
  }

  return {
    read,
    check,
    discover,
    close,
    deterministic: config.primary_keys.length > 0 && config.checkpoint_interval === undefined,
    rereadsAll: config.replication_method.type === 'FullTable',
  };
}
