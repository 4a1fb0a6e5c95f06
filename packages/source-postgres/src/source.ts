/**
 * The postgres source: one query per read inside a read-only REPEATABLE READ transaction, streamed
 * through `COPY (…) TO STDOUT` (or, with bind parameters, a server-side cursor read with
 * `FETCH FORWARD n`), so memory holds about one page, never the result.
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
  queryTypes,
  serverName,
} from '@faucet/common-postgres';
import {
  ConfigError,
  type DiscoveredStream,
  type JsonValue,
  type Logger,
  type Page,
  Redactor,
  type Source,
  type SourceContext,
  SourceError,
  silentLogger,
} from '@faucet/core';
import { startFromBookmark } from './bookmark.js';
import { checkReadable } from './check.js';
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
import { type CopyReader, openCopyReader } from './copy.js';
import { openCursorReader } from './cursor.js';
import { describeTables } from './discover.js';
import { withLookback } from './lookback.js';
import { pagesOf, type RowReader } from './pages.js';
import { planRead } from './plan.js';
import { buildReadQuery, type StartPoint } from './query.js';
import { beginSnapshot } from './snapshot.js';

export interface PostgresSourceOptions {
  /** A pool to use instead of one made from `connection_url` (not ended by `close()`). */
  pool?: PostgresPool;
  /** A single connected client to use (not closed by `close()`); reads and checks take turns on it. */
  client?: PostgresClient;
  logger?: Logger;
  /** Scrubs secrets from messages (default: the password of `connection_url`, and the URL itself). */
  redactor?: Redactor;
}

function parseConfig(input: PostgresSourceConfigInput): PostgresSourceConfig {
  const result = postgresSourceConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    { context: 'invalid config for source "postgres"' },
  );
}

/**
 * Whether reads stream through COPY: `auto` does unless the query has bind parameters (COPY takes
 * none) or the connection is an injected client (a COPY stopped early ends only by closing its
 * connection, and an injected client is never closed here).
 */
function readsWithCopy(config: PostgresSourceConfig, options: PostgresSourceOptions): boolean {
  if (config.read_method === 'cursor') return false;
  if (config.read_method === 'auto') return config.params.length === 0 && !options.client;
  if (options.client) {
    throw new ConfigError([
      {
        path: 'read_method',
        message:
          'copy needs connections the source may close (a pool or connection_url), not an injected client',
      },
    ]);
  }
  return true;
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
  const plan = planRead(config);
  const { from, what, keyset, incremental } = plan;
  const useCopy = readsWithCopy(config, options);
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

  async function* read(ctx: SourceContext): AsyncGenerator<Page, void, undefined> {
    const pageSize = Math.max(1, Math.min(config.batch_size, ctx.batchSize));
    let start = startPoint(ctx.bookmark);
    // A lookback re-read never moves the bookmark behind where the last run stopped.
    const floor = start.type === 'after-key' && config.lookback !== undefined ? start.values : undefined;
    const client = await connect();
    let broken = false;
    let inTransaction = false;
    let copying: CopyReader | undefined;
    let action = 'preparing the read';
    try {
      arrayTypes ??= await loadArrayTypes(client);
      // The lookback widens a resumed read only; start_value is taken exactly as configured.
      if (ctx.bookmark !== undefined && ctx.bookmark !== null) {
        start = await withLookback(client, plan, config.params, config.lookback, start);
      }
      const query = buildReadQuery({
        from,
        params: config.params,
        order: keyset.columns,
        ...(incremental ? { cursor: incremental.cursor_field } : {}),
        start,
        inline: useCopy,
      });
      action = `reading ${what}`;
      inTransaction = true;
      await beginSnapshot(client);
      const types = queryTypes(arrayTypes);
      let reader: RowReader;
      if (useCopy) {
        copying = await openCopyReader(client, query.text, types);
        reader = copying;
      } else {
        reader = await openCursorReader(client, query, types);
      }
      yield* pagesOf(reader, { plan, pageSize, floor, ctx });
    } catch (error) {
      const wrapped = wrap(failureOf(client, error), action, ctx.signal);
      broken = wrapped.code === 'CONNECTION_FAILED';
      throw wrapped;
    } finally {
      // A COPY stopped early (cancelled, or the run stopped reading) still streams: only closing the
      // connection ends it.
      if (copying && !copying.ended()) {
        copying.abandon();
        broken = true;
      }
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
    await withClient(`checking ${what}`, (client) => checkReadable(client, plan, config, server));
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
