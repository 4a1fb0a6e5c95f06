/**
 * What the BigQuery REST API answered, read off the client's errors, and the FaucetError a user sees
 * for it. The API reports failures as `{error: {code, message, errors: [{reason, location, message}]}}`
 * (https://cloud.google.com/bigquery/docs/error-messages); the client exposes them as `code` (the HTTP
 * status) and `errors`. Network failures carry a Node error code instead.
 */
import {
  AuthError,
  ConnectionError,
  type FaucetError,
  isFaucetError,
  isRetryable,
  RateLimitedError,
  type Redactor,
  SinkError,
} from '@faucet/core';

export const CONNECTOR = 'bigquery';

export interface ApiErrorItem {
  reason?: string;
  location?: string;
  message?: string;
}

export interface ApiFailure {
  /** HTTP status, when the server answered. */
  status?: number;
  /** The first error's reason (`notFound`, `duplicate`, `quotaExceeded`, `backendError`, …). */
  reason?: string;
  message: string;
  errors: ApiErrorItem[];
  /** A Node network error code (ECONNREFUSED …) when the server could not be reached. */
  network?: string;
}

/** Reasons BigQuery gives for a failure that a later attempt can get past. */
const RETRY_REASONS = new Set([
  'backendError',
  'internalError',
  'rateLimitExceeded',
  'quotaExceeded',
  'jobBackendError',
]);
const RATE_REASONS = new Set(['rateLimitExceeded', 'quotaExceeded']);

/** The parts of a client error, or undefined when it is not one (a bug, a FaucetError). */
export function apiFailure(error: unknown): ApiFailure | undefined {
  if (typeof error !== 'object' || error === null || isFaucetError(error)) return undefined;
  const e = error as { code?: unknown; errors?: unknown; message?: unknown; type?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(error);
  // node-fetch (under the client) marks every system error `type: 'system'`; core knows the codes.
  if (typeof e.code === 'string' && (e.type === 'system' || isRetryable(error))) {
    return { message, errors: [], network: e.code };
  }
  if (e.type === 'request-timeout' || (typeof e.message === 'string' && /network timeout/i.test(e.message))) {
    return { message, errors: [], network: 'ETIMEDOUT' };
  }
  if (typeof e.code !== 'number') return undefined;
  const errors = Array.isArray(e.errors)
    ? (e.errors as unknown[]).filter((x): x is ApiErrorItem => typeof x === 'object' && x !== null)
    : [];
  const reason = errors[0]?.reason;
  return { status: e.code, message, errors, ...(typeof reason === 'string' ? { reason } : {}) };
}

/** True for 5xx, 429, quota and rate-limit answers, and network failures. */
export function isRetryableFailure(failure: ApiFailure | undefined): boolean {
  if (!failure) return false;
  if (failure.network !== undefined) return true;
  const status = failure.status ?? 0;
  if (status === 429 || status >= 500) return true;
  return status === 403 && failure.errors.some((e) => e.reason !== undefined && RETRY_REASONS.has(e.reason));
}

export function isRetryableApiError(error: unknown): boolean {
  if (isFaucetError(error)) return error.retryable;
  return isRetryableFailure(apiFailure(error));
}

export interface ErrorContext {
  /** What was being done: `inserting 500 rows into p.d.t`. */
  action: string;
  /** host:port of the API, for network errors. */
  server: string;
  redactor: Redactor;
}

const reasonText = (failure: ApiFailure): string => {
  const item = failure.errors[0];
  const parts = [failure.reason, item?.location ? `at ${item.location}` : undefined].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(' ')})` : '';
};

/**
 * A FaucetError for anything the client threw: network errors name host:port, refused credentials
 * become AuthError, quota answers RateLimitedError, the rest SinkError with BigQuery's reason.
 */
export function wrapApiError(error: unknown, ctx: ErrorContext): FaucetError {
  if (isFaucetError(error)) return ctx.redactor.redactError(error);
  const failure = apiFailure(error);
  const say = (text: string) => ctx.redactor.redact(text);
  if (!failure) {
    const message = error instanceof Error ? error.message : String(error);
    return new SinkError(say(`bigquery sink: ${ctx.action} failed: ${message}`), {
      connector: CONNECTOR,
      cause: error,
    });
  }
  const options = { connector: CONNECTOR, cause: error };
  if (failure.network !== undefined) {
    return new ConnectionError(
      say(
        `bigquery sink: cannot reach the BigQuery API at ${ctx.server} while ${ctx.action}: ${failure.message}`,
      ),
      options,
    );
  }
  const status = failure.status ?? 0;
  const text = `${failure.message}${reasonText(failure)}`;
  const retryable = isRetryableFailure(failure);
  if (status === 401 || (status === 403 && !retryable)) {
    return new AuthError(
      say(
        `bigquery sink: BigQuery (${ctx.server}) refused ${ctx.action}: HTTP ${status}: ${text}; check the ` +
          'credentials (auth) and their roles on the project and dataset',
      ),
      options,
    );
  }
  if (status === 429 || (failure.reason !== undefined && RATE_REASONS.has(failure.reason))) {
    return new RateLimitedError(
      say(`bigquery sink: ${ctx.action}: BigQuery is rate limiting: HTTP ${status}: ${text}`),
      options,
    );
  }
  return new SinkError(say(`bigquery sink: ${ctx.action} failed: HTTP ${status}: ${text}`), {
    ...options,
    retryable,
  });
}
