/**
 * The rest source. A read walks the configured pagination over one request (or one per partition,
 * or per time window), keeping records past the stored cursor. Bookmarks:
 *
 * - Incremental / conditional: `{cursor?, etag?, last_modified?}` on the final page only (unordered).
 * - `partitions`: the same bookmark per partition, on that partition's final page, with
 *   `page.partition` set so the engine stores it under `{stateKey}::{id}`.
 * - `window`: the `readSlices` bookmark, one checkpoint at the end of each window.
 * - FullTable without conditional requests: no bookmark (every run reads everything).
 */
import {
  AuthError,
  ConfigError,
  configJsonSchema,
  createCursorFilter,
  createRunningMax,
  type DiscoveredStream,
  errorMessage,
  type FaucetRecord,
  isFaucetError,
  isPartialWindow,
  type JsonValue,
  type Logger,
  type Page,
  paginateRecords,
  parseRetryAfter,
  Redactor,
  readSlices,
  resolveStartBookmark,
  retry,
  type SlicePage,
  type Source,
  type SourceContext,
  SourceError,
  silentLogger,
  type TimeWindow,
  timeWindows,
} from '@faucet/core';
import { createAuthenticator } from './auth.js';
import {
  durationMs,
  type RestSourceConfig,
  type RestSourceConfigInput,
  restSourceConfigSchema,
} from './config.js';
import { conditionalHeaders, type RestBookmark, readBookmark, writeBookmark } from './incremental.js';
import { isValidPath } from './jsonpath.js';
import { type Exchange, paginate } from './pagination.js';
import { mergeConcurrent, partitionIds } from './partitions.js';
import { createRateLimiter } from './ratelimit.js';
import {
  buildUrl,
  checkStatus,
  displayUrl,
  type HttpRequest,
  parseJson,
  type SendOptions,
  send,
  setQuery,
} from './request.js';
import { inferSchema } from './schema.js';
import { createTransport } from './transport.js';

export interface RestSourceOptions {
  logger?: Logger;
  /** Scrubs secrets from messages (default: the schema-marked secrets of the config). */
  redactor?: Redactor;
  /** Clock (ms since epoch) for time windows, token expiry and Retry-After dates. */
  now?: () => number;
  /** Sleep used by retries and the rate limit (tests inject one that records and returns). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Jitter source for retries. */
  random?: () => number;
  /** Replaces the HTTP client (undici with the `tls` settings); tests inject one. */
  fetch?: typeof fetch;
}

type PartitionValue = string | number;

interface Partition {
  value: PartitionValue;
  /** The value made safe for a state key (see `partitionId`). */
  id: string;
}

function parseConfig(input: RestSourceConfigInput): RestSourceConfig {
  const result = restSourceConfigSchema.safeParse(input);
  const issues = result.success
    ? []
    : result.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.'),
        message: issue.message,
      }));
  if (result.success) {
    const c = result.data;
    const paths: [string, string | undefined][] = [
      ['records_path', c.records_path],
      ['pagination.cursor_path', c.pagination.type === 'cursor' ? c.pagination.cursor_path : undefined],
      [
        'pagination.next_link_path',
        c.pagination.type === 'next_link' ? c.pagination.next_link_path : undefined,
      ],
      ['pagination.total_path', c.pagination.type === 'offset' ? c.pagination.total_path : undefined],
    ];
    for (const [path, value] of paths) {
      if (value !== undefined && !isValidPath(value)) {
        issues.push({ path, message: `unsupported JSONPath ${JSON.stringify(value)}` });
      }
    }
    if (c.window && !Number.isFinite(durationMs(c.window.size))) {
      issues.push({ path: 'window.size', message: 'not a duration' });
    }
    if (c.partitions) {
      try {
        partitionIds(c.partitions.values);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        issues.push(...error.issues);
      }
    }
    if (issues.length === 0) return c;
  }
  throw new ConfigError(issues, { context: 'invalid config for source "rest"' });
}

function cursorParamValue(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function* chunks(records: FaucetRecord[], size: number): Generator<FaucetRecord[]> {
  for (let i = 0; i < records.length; i += size) yield records.slice(i, i + size);
}

/**
 * A partition's failure, prefixed with the partition's value (and id when they differ). FaucetErrors
 * keep their class, code and fields; the copy leaves the original alone, since one error (a failed
 * token request) can reach several partitions.
 */
function inPartition(error: unknown, partition: Partition, redactor: Redactor): Error {
  const shown = JSON.stringify(partition.value);
  const label = redactor.redact(
    `partition ${shown}${String(partition.value) === partition.id ? '' : ` (id ${partition.id})`}`,
  );
  if (!isFaucetError(error)) {
    return new SourceError(`${label}: ${errorMessage(error)}`, { connector: 'rest', cause: error });
  }
  const copy = Object.create(Object.getPrototypeOf(error)) as typeof error;
  for (const key of Reflect.ownKeys(error)) {
    const descriptor = Reflect.getOwnPropertyDescriptor(error, key);
    if (descriptor) Reflect.defineProperty(copy, key, descriptor);
  }
  copy.message = `${label}: ${error.message}`;
  if (error.stack) copy.stack = error.stack.replace(error.message, copy.message);
  return copy;
}

export function createRestSource(input: RestSourceConfigInput, options: RestSourceOptions = {}): Source {
  const config = parseConfig(input);
  const redactor =
    options.redactor ??
    Redactor.forConfig(config, configJsonSchema({ configSchema: restSourceConfigSchema }));
  const now = options.now ?? Date.now;
  const defaultLogger = options.logger ?? silentLogger;
  const transport = options.fetch
    ? { fetch: options.fetch, insecure: false }
    : createTransport(config.tls, redactor);
  const partitionValues = config.partitions?.values;
  const partitions: Partition[] | undefined = partitionValues
    ? partitionIds(partitionValues).map((id, i) => ({ value: partitionValues[i] as PartitionValue, id }))
    : undefined;
  const auth = createAuthenticator(config.auth, {
    redactor,
    now,
    timeoutMs: config.timeout_ms,
    fetch: transport.fetch,
  });
  const secretParams = auth.secretParams;
  let warnedInsecure = false;
  const warnIfInsecure = (logger: Logger) => {
    if (!transport.insecure || warnedInsecure) return;
    warnedInsecure = true;
    logger.warn(
      'rest: tls.reject_unauthorized is false: server certificates are not verified, so anyone on the ' +
        'network path can read and change this traffic; set tls.ca_file instead',
      { base_url: displayUrl(config.base_url, redactor, secretParams) },
    );
  };
  const limiter = createRateLimiter(config.requests_per_second, now, options.sleep);
  const tolerated = new Set(config.tolerated_statuses);
  const describe = (request: HttpRequest) =>
    `${request.method} ${displayUrl(request.url, redactor, secretParams)}`;

  function initialRequest(partition: PartitionValue | undefined, cursor: JsonValue | undefined) {
    const parts = config.partitions;
    const pathParams = { ...config.path_params };
    if (parts?.placeholder !== undefined && partition !== undefined) {
      pathParams[parts.placeholder] = partition;
    }
    const url = buildUrl(config.base_url, config.path, pathParams);
    setQuery(url, config.query_params);
    if (parts?.param !== undefined && partition !== undefined)
      url.searchParams.set(parts.param, String(partition));
    if (config.cursor_param !== undefined && cursor !== undefined && cursor !== null) {
      url.searchParams.set(config.cursor_param, cursorParamValue(cursor));
    }
    const request: HttpRequest = { method: config.method, url, headers: { ...config.headers } };
    if (config.body !== undefined) request.body = config.body;
    return request;
  }

  function makeExchange(signal: AbortSignal, logger: Logger): Exchange {
    warnIfInsecure(logger);
    const sendOptions: SendOptions = {
      timeoutMs: config.timeout_ms,
      signal,
      redactor,
      secretParams,
      fetch: transport.fetch,
    };
    const attempt = (base: HttpRequest) =>
      retry(
        async (_attempt, retrySignal) => {
          const request: HttpRequest = { ...base, url: new URL(base.url), headers: { ...base.headers } };
          await auth.apply(request, retrySignal);
          await limiter(retrySignal);
          const response = await send(request, { ...sendOptions, signal: retrySignal });
          if (tolerated.has(response.status)) {
            logger.info(`rest: HTTP ${response.status} is tolerated; ending the stream`, {
              url: describe(request),
            });
            return undefined;
          }
          checkStatus(request, response, {
            redactor,
            secretParams,
            parseRetryAfter: (header) => parseRetryAfter(header, now()),
          });
          return { response, body: parseJson(response, describe(request), redactor) };
        },
        {
          policy: {
            maxAttempts: config.max_retries + 1,
            baseDelayMs: config.retry_backoff_ms,
            maxDelayMs: 60_000,
            jitter: true,
            maxRetryAfterMs: config.max_retry_after_ms,
            maxRateLimitWaits: 10,
          },
          signal,
          onRetry: (info) =>
            logger.warn(`rest: retrying in ${Math.round(info.delayMs)} ms`, {
              attempt: info.attempt,
              error: redactor.redact(info.error instanceof Error ? info.error.message : String(info.error)),
            }),
          ...(options.sleep ? { sleep: options.sleep } : {}),
          ...(options.random ? { random: options.random } : {}),
        },
      );
    return async (request) => {
      try {
        return await attempt(request);
      } catch (error) {
        // A cached token the server no longer accepts: fetch a fresh one once.
        if (error instanceof AuthError && auth.invalidate()) {
          try {
            return await attempt(request);
          } catch (again) {
            throw redactor.redactError(again);
          }
        }
        throw redactor.redactError(error);
      }
    };
  }

  interface ChainOptions {
    partition: PartitionValue | undefined;
    /** The bookmark this chain resumes from (the run's, or its partition's). */
    stored: RestBookmark;
    exchange: Exchange;
    logger: Logger;
    batchSize: number;
    /**
     * On a 304: true yields one empty page carrying `stored` again (the unpartitioned read, whose
     * one bookmark may be the run's only page); false yields nothing, so the stored value stays as it is.
     */
    pageOn304: boolean;
  }

  /** One request chain: its pages re-cut to `batchSize`, the chain's bookmark on the last one. */
  function readChain(chain: ChainOptions): AsyncGenerator<Page, void, undefined> {
    const { stored, logger } = chain;
    const method = config.replication_method;
    const incremental = method.type === 'Incremental' ? method : undefined;
    const start = incremental ? resolveStartBookmark(stored.cursor, incremental.start_value) : undefined;
    const keep = incremental
      ? createCursorFilter({ cursorField: incremental.cursor_field, after: start, logger })
      : undefined;
    const max = incremental
      ? createRunningMax({ cursorField: incremental.cursor_field, initial: start, logger })
      : undefined;
    const conditional = config.conditional_requests;
    const validators: RestBookmark = {};
    let notModified = false;

    async function* records(): AsyncGenerator<FaucetRecord> {
      const request = initialRequest(chain.partition, start);
      if (conditional) Object.assign(request.headers, conditionalHeaders(stored));
      let firstPage = true;
      const pages = paginate(request, chain.exchange, {
        pagination: config.pagination,
        recordsPath: config.records_path,
        maxPages: config.max_pages,
        logger,
        describe,
      });
      for await (const page of pages) {
        if (firstPage && conditional) {
          if (page.response.status === 304) notModified = true;
          const etag = page.response.headers.get('etag');
          const lastModified = page.response.headers.get('last-modified');
          if (etag) validators.etag = etag;
          if (lastModified) validators.last_modified = lastModified;
        }
        firstPage = false;
        for (const record of page.records) {
          if (keep && !keep(record)) continue;
          max?.observe(record);
          yield record;
        }
      }
    }

    return paginateRecords(records(), {
      batchSize: chain.batchSize,
      finalBookmark: () => {
        if (notModified) return chain.pageOn304 ? writeBookmark(stored) : undefined;
        const bookmark: RestBookmark = { ...(conditional ? validators : {}) };
        if (max?.value !== undefined) bookmark.cursor = max.value;
        return writeBookmark(bookmark);
      },
    });
  }

  function readPlain(ctx: SourceContext): AsyncGenerator<Page, void, undefined> {
    const logger = ctx.logger ?? defaultLogger;
    return readChain({
      partition: undefined,
      stored: readBookmark(ctx.bookmark),
      exchange: makeExchange(ctx.signal, logger),
      logger,
      batchSize: ctx.batchSize,
      pageOn304: true,
    });
  }

  /**
   * Every partition's chain, `partitions.concurrency` at once, merged through a queue of at most
   * that many pages. Each resumes from its own bookmark (`ctx.partitionBookmark`) and tags every
   * page with its id, so its final page's bookmark lands under `{stateKey}::{id}`. One partition
   * failing aborts the others' requests and fails the read, naming the partition.
   */
  function readPartitioned(
    ctx: SourceContext,
    list: readonly Partition[],
  ): AsyncGenerator<Page, void, undefined> {
    const logger = ctx.logger ?? defaultLogger;
    const concurrency = config.partitions?.concurrency ?? 1;
    async function* partitionPages(partition: Partition, signal: AbortSignal): AsyncGenerator<Page> {
      try {
        const stored = readBookmark(await ctx.partitionBookmark?.(partition.id));
        const pages = readChain({
          partition: partition.value,
          stored,
          exchange: makeExchange(signal, logger),
          logger,
          batchSize: ctx.batchSize,
          pageOn304: false,
        });
        for await (const page of pages) yield { ...page, partition: partition.id };
      } catch (error) {
        // Stopped because another partition failed or the run was cancelled: not this one's failure.
        if (signal.aborted) throw error;
        throw inPartition(error, partition, redactor);
      }
    }
    return mergeConcurrent(list, { concurrency, capacity: concurrency, signal: ctx.signal }, partitionPages);
  }

  async function* readWindows(ctx: SourceContext): AsyncGenerator<Page, void, undefined> {
    const window = config.window;
    if (!window) return;
    const logger = ctx.logger ?? defaultLogger;
    const windowMs = durationMs(window.size);
    const exchange = makeExchange(ctx.signal, logger);
    async function* windowPages(slice: TimeWindow): AsyncGenerator<SlicePage> {
      const request = initialRequest(undefined, undefined);
      request.url.searchParams.set(window?.field_param_start ?? '', slice.start);
      request.url.searchParams.set(window?.field_param_end ?? '', slice.end);
      const pages = paginate(request, exchange, {
        pagination: config.pagination,
        recordsPath: config.records_path,
        maxPages: config.max_pages,
        logger,
        describe,
      });
      for await (const page of pages) {
        for (const chunk of chunks(page.records, ctx.batchSize)) yield { records: chunk };
      }
    }
    yield* readSlices({
      slices: timeWindows({ start: window.start, end: new Date(now()), windowMs }),
      sliceId: (w) => w.id,
      isPartial: (w) => isPartialWindow(w, windowMs),
      bookmark: ctx.bookmark,
      signal: ctx.signal,
      readSlice: (slice) => windowPages(slice),
    });
  }

  async function firstPage(): Promise<FaucetRecord[]> {
    const controller = new AbortController();
    const exchange = makeExchange(controller.signal, defaultLogger);
    const request = initialRequest(config.partitions?.values[0], undefined);
    const pages = paginate(request, exchange, {
      pagination: config.pagination,
      recordsPath: config.records_path,
      maxPages: 1,
      logger: defaultLogger,
      describe,
    });
    for await (const page of pages) return page.records;
    return [];
  }

  return {
    read(ctx) {
      if (config.window) return readWindows(ctx);
      return partitions ? readPartitioned(ctx, partitions) : readPlain(ctx);
    },
    async check() {
      await firstPage();
    },
    async discover(): Promise<DiscoveredStream[]> {
      const sample = (await firstPage()).slice(0, config.schema_sample_size);
      const method = config.replication_method;
      return [
        {
          name: config.name ?? (config.path.replace(/^\/+/, '').replace(/[^\w.-]+/g, '_') || 'records'),
          schema: inferSchema(sample),
          ...(config.primary_keys.length > 0 ? { primaryKeys: [...config.primary_keys] } : {}),
          ...(method.type === 'Incremental' ? { cursorFields: [method.cursor_field] } : {}),
        },
      ];
    },
  };
}
