/**
 * The example source: pages through `GET <url>?after=<cursor>&limit=<n>` (answer: `{"records": […]}`,
 * sorted by the cursor field). Each page is a checkpoint with bookmark `{cursor}`: resuming asks for
 * the records after it, so a crash re-reads at most the page that was in flight.
 */
import {
  AuthError,
  ConnectionError,
  errorMessage,
  type FaucetRecord,
  type JsonValue,
  type Logger,
  type Page,
  RateLimitedError,
  type Source,
  type SourceContext,
  SourceError,
  silentLogger,
  TimeoutError,
} from '@faucet/core';
import type { ExampleSourceConfig } from './config.js';

const CONNECTOR = 'example';

export interface ExampleSourceOptions {
  /** Inject a fetch (tests, proxies); the global one by default. */
  fetch?: typeof fetch;
  logger?: Logger;
}

type Cursor = string | number;

/** `host:port` of the endpoint, for messages: never the path, query or credentials. */
function serverName(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname}:${port}`;
}

function cursorOf(bookmark: JsonValue | undefined): Cursor | undefined {
  if (typeof bookmark !== 'object' || bookmark === null || Array.isArray(bookmark)) return undefined;
  const cursor = bookmark.cursor;
  return typeof cursor === 'string' || typeof cursor === 'number' ? cursor : undefined;
}

/** The network error's own code (ECONNREFUSED, ENOTFOUND, …), which fetch hides in its cause. */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  return typeof cause?.message === 'string' ? cause.message : errorMessage(error);
}

export function createExampleSource(config: ExampleSourceConfig, options: ExampleSourceOptions = {}): Source {
  const endpoint = new URL(config.url);
  const server = serverName(endpoint);
  const doFetch = options.fetch ?? fetch;
  const logger = options.logger ?? silentLogger;

  async function fetchPage(
    after: Cursor | undefined,
    limit: number,
    signal: AbortSignal,
  ): Promise<FaucetRecord[]> {
    const url = new URL(endpoint);
    if (after !== undefined) url.searchParams.set('after', String(after));
    url.searchParams.set('limit', String(limit));
    const timeout = AbortSignal.timeout(config.timeout_ms);
    let response: Response;
    try {
      response = await doFetch(url, {
        headers: { authorization: `Bearer ${config.token}`, accept: 'application/json' },
        signal: AbortSignal.any([signal, timeout]),
      });
    } catch (error) {
      if (timeout.aborted) {
        throw new TimeoutError(`example source: ${server} did not answer within ${config.timeout_ms} ms`, {
          cause: error,
          connector: CONNECTOR,
        });
      }
      if (signal.aborted) throw error;
      throw new ConnectionError(`example source: cannot reach ${server} (${networkReason(error)})`, {
        cause: error,
        connector: CONNECTOR,
      });
    }
    if (response.status === 401 || response.status === 403) {
      throw new AuthError(`example source: ${server} refused the token (HTTP ${response.status})`, {
        connector: CONNECTOR,
      });
    }
    if (response.status === 429) {
      const seconds = Number(response.headers.get('retry-after'));
      throw new RateLimitedError(`example source: ${server} is rate limiting (HTTP 429)`, {
        connector: CONNECTOR,
        ...(Number.isFinite(seconds) && seconds > 0 ? { retryAfterMs: seconds * 1000 } : {}),
      });
    }
    if (!response.ok) {
      throw new SourceError(`example source: ${server} answered HTTP ${response.status}`, {
        connector: CONNECTOR,
        retryable: response.status >= 500,
      });
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw new SourceError(`example source: ${server} answered with invalid JSON`, {
        cause: error,
        connector: CONNECTOR,
      });
    }
    const records = (body as { records?: unknown } | null)?.records;
    if (!Array.isArray(records)) {
      throw new SourceError(`example source: ${server} answered without a "records" array`, {
        connector: CONNECTOR,
      });
    }
    return records as FaucetRecord[];
  }

  return {
    // Same bookmark, same pages: the API filters and sorts by the cursor.
    deterministic: true,

    async check() {
      await fetchPage(undefined, 1, new AbortController().signal);
    },

    async *read(ctx: SourceContext): AsyncIterable<Page> {
      const limit = config.page_size ?? ctx.batchSize;
      let after = cursorOf(ctx.bookmark) ?? config.start_after;
      logger.debug('example source: reading', { server, after: after ?? null, limit });
      for (;;) {
        if (ctx.signal.aborted) return;
        const records = await fetchPage(after, limit, ctx.signal);
        if (records.length === 0) return;
        const last = records.at(-1)?.[config.cursor_field];
        if (typeof last !== 'string' && typeof last !== 'number') {
          throw new SourceError(
            `example source: a record from ${server} has no string or number "${config.cursor_field}" (the ` +
              `cursor field)`,
            { connector: CONNECTOR },
          );
        }
        after = last;
        yield { records, bookmark: { cursor: last } };
        // A short page is the last one; an API that always fills pages ends with an empty one.
        if (records.length < limit) return;
      }
    },
  };
}
