/**
 * The HTTP side of the rest source: the first request of a chain (path, query, partition, cursor)
 * and the exchange that sends a request with auth, the rate limit, retries and status checks, and a
 * fresh token once when a cached one is refused. Built once per source; reads share it.
 */
import { AuthError, type JsonValue, type Logger, parseRetryAfter, type Redactor, retry } from '@faucet/core';
import { createAuthenticator } from './auth.js';
import type { RestSourceConfig } from './config.js';
import type { Exchange, PaginateOptions } from './pagination.js';
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
import { createTransport } from './transport.js';

export type PartitionValue = string | number;

export interface RestClientOptions {
  redactor: Redactor;
  now: () => number;
  defaultLogger: Logger;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  fetch?: typeof fetch;
}

export interface RestClient {
  readonly config: RestSourceConfig;
  readonly redactor: Redactor;
  readonly now: () => number;
  readonly defaultLogger: Logger;
  /** `GET https://host/path?…` with secret query parameters hidden, for messages. */
  describe(request: HttpRequest): string;
  /** The first request of a chain: configured path and query, the partition, the cursor parameter. */
  initialRequest(partition: PartitionValue | undefined, cursor: JsonValue | undefined): HttpRequest;
  /** Sends requests of one read: cancelled by `signal`, retries logged to `logger`. */
  exchange(signal: AbortSignal, logger: Logger): Exchange;
  /** Pagination settings for `paginate`. */
  pagination(logger: Logger, maxPages?: number): PaginateOptions;
}

function cursorParamValue(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function createRestClient(config: RestSourceConfig, options: RestClientOptions): RestClient {
  const { redactor, now } = options;
  const transport = options.fetch
    ? { fetch: options.fetch, insecure: false }
    : createTransport(config.tls, redactor);
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

  function exchange(signal: AbortSignal, logger: Logger): Exchange {
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

  return {
    config,
    redactor,
    now,
    defaultLogger: options.defaultLogger,
    describe,
    initialRequest,
    exchange,
    pagination: (logger, maxPages = config.max_pages) => ({
      pagination: config.pagination,
      recordsPath: config.records_path,
      maxPages,
      logger,
      describe,
    }),
  };
}
