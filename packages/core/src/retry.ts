/**
 * Retries for connector authors: exponential backoff with jitter, a server's Retry-After honoured
 * without using up an attempt, and sleeps that end the moment the run is cancelled.
 */
import { z } from 'zod';
import {
  CancelledError,
  ConfigError,
  type ConfigIssue,
  isRetryable as defaultIsRetryable,
  isFaucetError,
} from './errors.js';

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  /** The first backoff; attempt n waits `baseDelayMs * 2^(n-1)`. */
  baseDelayMs: number;
  /** Cap on one backoff sleep (after jitter). */
  maxDelayMs: number;
  /** Multiply each backoff by a random factor in [0.5, 1.5) so clients do not retry in lockstep. */
  jitter: boolean;
  /** Cap on a wait the server asked for (Retry-After). */
  maxRetryAfterMs: number;
  /** Consecutive Retry-After waits that do not use up an attempt; later ones do. */
  maxRateLimitWaits: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 30_000,
  jitter: true,
  maxRetryAfterMs: 300_000,
  maxRateLimitWaits: 10,
});

const count = (min: number) => z.number().int().min(min);

/**
 * The retry policy as it appears in a connector config (snake_case, every key optional). Embed it as
 * `retry: retryPolicySchema.prefault({})` and turn the parsed value into a policy with
 * `retryPolicyFromConfig`.
 */
export const retryPolicySchema = z.strictObject({
  max_attempts: count(1)
    .default(DEFAULT_RETRY_POLICY.maxAttempts)
    .describe('Attempts in total, the first included'),
  base_delay_ms: count(0)
    .default(DEFAULT_RETRY_POLICY.baseDelayMs)
    .describe('First backoff, doubled per attempt'),
  max_delay_ms: count(0).default(DEFAULT_RETRY_POLICY.maxDelayMs).describe('Cap on one backoff sleep'),
  jitter: z.boolean().default(DEFAULT_RETRY_POLICY.jitter).describe('Randomise each backoff by x[0.5, 1.5)'),
  max_retry_after_ms: count(0)
    .default(DEFAULT_RETRY_POLICY.maxRetryAfterMs)
    .describe('Cap on a wait the server asks for (Retry-After)'),
  max_rate_limit_waits: count(0)
    .default(DEFAULT_RETRY_POLICY.maxRateLimitWaits)
    .describe('Consecutive Retry-After waits that do not use up an attempt'),
});

/** The parsed config: snake_case, every key present. */
export type RetryPolicyConfig = z.output<typeof retryPolicySchema>;

const CONFIG_KEYS = {
  maxAttempts: 'max_attempts',
  baseDelayMs: 'base_delay_ms',
  maxDelayMs: 'max_delay_ms',
  jitter: 'jitter',
  maxRetryAfterMs: 'max_retry_after_ms',
  maxRateLimitWaits: 'max_rate_limit_waits',
} as const satisfies { [K in keyof RetryPolicy]: keyof RetryPolicyConfig };

const POLICY_KEYS = Object.keys(CONFIG_KEYS) as (keyof RetryPolicy)[];

export function retryPolicyFromConfig(config: RetryPolicyConfig): RetryPolicy {
  return {
    maxAttempts: config.max_attempts,
    baseDelayMs: config.base_delay_ms,
    maxDelayMs: config.max_delay_ms,
    jitter: config.jitter,
    maxRetryAfterMs: config.max_retry_after_ms,
    maxRateLimitWaits: config.max_rate_limit_waits,
  };
}

/** Defaults filled in and every value checked; throws ConfigError naming the bad keys. */
export function resolveRetryPolicy(policy: Partial<RetryPolicy> = {}): RetryPolicy {
  const config: Record<string, unknown> = {};
  for (const key of POLICY_KEYS) {
    // `undefined` from JavaScript callers means "use the default", like a missing key.
    if (policy[key] !== undefined) config[CONFIG_KEYS[key]] = policy[key];
  }
  const result = retryPolicySchema.safeParse(config);
  if (result.success) return retryPolicyFromConfig(result.data);
  const issues: ConfigIssue[] = result.error.issues.map((issue) => {
    const configKey = issue.path[0];
    const key = POLICY_KEYS.find((k) => CONFIG_KEYS[k] === configKey) ?? String(configKey ?? '');
    return { path: key, message: issue.message };
  });
  throw new ConfigError(issues, { context: 'invalid retry policy' });
}

export interface RetryInfo {
  /** The call that just failed (1 for the first). */
  attempt: number;
  /** How long retry waits before the next call. */
  delayMs: number;
  error: unknown;
  /** True when the wait is the server's Retry-After. */
  rateLimited: boolean;
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  /** Cancels the retry loop: no further calls, and a pending wait rejects with CancelledError. */
  signal?: AbortSignal;
  /** Whether another attempt can help. Default: `isRetryable` (transport errors, 5xx, 429). */
  isRetryable?: (error: unknown) => boolean;
  /** How long the server asked us to wait. Default: `retryAfterMs` of a RateLimitedError. */
  retryAfterMs?: (error: unknown) => number | undefined;
  /** Called before each wait (for logs and metrics); errors it throws are ignored. */
  onRetry?: (info: RetryInfo) => void;
  /** For tests. Must resolve after `ms`; retry also stops waiting when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** For tests: a number in [0, 1), as Math.random. */
  random?: () => number;
}

/** `retryAfterMs` of a RateLimitedError (matched by brand, so copies of @faucet/core agree). */
export function rateLimitRetryAfterMs(error: unknown): number | undefined {
  if (!isFaucetError(error)) return undefined;
  const value = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof value === 'number' ? value : undefined;
}

/** The backoff before retry number `retry` (1-based), before jitter and cap. */
function backoffMs(policy: RetryPolicy, retry: number, random: () => number): number {
  const exponential = policy.baseDelayMs * 2 ** Math.min(retry - 1, 1023);
  const jittered = policy.jitter ? exponential * (0.5 + random()) : exponential;
  return Math.floor(Math.min(jittered, policy.maxDelayMs));
}

/**
 * Call `operation` until it succeeds, it throws an error that is not retryable, or the attempts run
 * out; then rethrow that last error unchanged. A Retry-After from the server is waited exactly
 * (capped at `maxRetryAfterMs`) and does not use up an attempt, for up to `maxRateLimitWaits`
 * consecutive waits. `attempt` counts calls, rate-limited ones included.
 */
export async function retry<T>(
  operation: (attempt: number, signal: AbortSignal) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const policy = resolveRetryPolicy(options.policy);
  // A fresh signal per call: listeners the operation adds to it cannot pile up across calls.
  const signal = options.signal ?? new AbortController().signal;
  const canRetry = options.isRetryable ?? defaultIsRetryable;
  const retryAfterOf = options.retryAfterMs ?? rateLimitRetryAfterMs;
  const random = options.random ?? Math.random;
  let attempt = 0;
  let failures = 0;
  let rateLimitWaits = 0;
  for (;;) {
    if (signal.aborted) throw cancelledBy(signal);
    attempt += 1;
    try {
      return await operation(attempt, signal);
    } catch (error) {
      if (!canRetry(error)) throw error;
      const retryAfter = validWait(retryAfterOf(error));
      let delayMs: number;
      let rateLimited = false;
      if (retryAfter !== undefined && rateLimitWaits < policy.maxRateLimitWaits) {
        rateLimitWaits += 1;
        rateLimited = true;
        delayMs = Math.min(retryAfter, policy.maxRetryAfterMs);
      } else {
        failures += 1;
        if (retryAfter === undefined) rateLimitWaits = 0;
        if (failures >= policy.maxAttempts) throw error;
        // Past the free waits the server's word still sets the wait: retrying sooner would fail again.
        delayMs =
          retryAfter === undefined
            ? backoffMs(policy, failures, random)
            : Math.min(retryAfter, policy.maxRetryAfterMs);
      }
      if (signal.aborted) throw cancelledBy(signal);
      notify(options.onRetry, { attempt, delayMs, error, rateLimited });
      if (options.sleep) await sleepUntilAborted(options.sleep, delayMs, signal);
      else await abortableSleep(delayMs, signal);
    }
  }
}

function validWait(ms: number | undefined): number | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

function notify(onRetry: RetryOptions['onRetry'], info: RetryInfo): void {
  if (!onRetry) return;
  try {
    const result: unknown = onRetry(info);
    // An async callback's rejection must not surface as an unhandled rejection either.
    if (result instanceof Promise) result.catch(() => {});
  } catch {
    // a broken log or metric callback must not change the outcome of the call
  }
}

function cancelledBy(signal: AbortSignal): CancelledError {
  return new CancelledError(undefined, { cause: signal.reason });
}

/** An injected sleep, raced with the signal so a sleep that ignores it still ends on cancel. */
async function sleepUntilAborted(
  sleep: (ms: number, signal: AbortSignal) => Promise<void>,
  ms: number,
  signal: AbortSignal,
): Promise<void> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(cancelledBy(signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const slept = sleep(ms, signal);
  try {
    await Promise.race([slept, aborted]);
  } catch (error) {
    slept.catch(() => {});
    if (signal.aborted) throw cancelledBy(signal);
    throw error;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** setTimeout fires at once for delays above 2^31 - 1 ms, so longer sleeps are chained. */
const MAX_TIMER_MS = 2_147_483_647;

/** Resolve after `ms`; reject with CancelledError (cause: `signal.reason`) as soon as `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelledBy(signal));
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelledBy(signal as AbortSignal));
    };
    const arm = (remaining: number) => {
      timer = setTimeout(
        () => {
          if (remaining > MAX_TIMER_MS) {
            arm(remaining - MAX_TIMER_MS);
            return;
          }
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.min(remaining, MAX_TIMER_MS),
      );
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    arm(Number.isFinite(ms) && ms > 0 ? ms : 0);
  });
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient must accept.
const IMF_FIXDATE = new RegExp(`^[a-z]{3}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`, 'i');
const RFC850_DATE = new RegExp(`^[a-z]{6,9}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`, 'i');
const ASCTIME_DATE = new RegExp(`^[a-z]{3} ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`, 'i');

type DateParts = [day: string, month: string, year: number, hour: string, minute: string, second: string];

function httpDateParts(text: string, now: number): DateParts | undefined {
  const imf = IMF_FIXDATE.exec(text);
  if (imf) return [imf[1]!, imf[2]!, Number(imf[3]), imf[4]!, imf[5]!, imf[6]!];
  const rfc850 = RFC850_DATE.exec(text);
  if (rfc850) {
    // A two-digit year more than 50 years in the future means the most recent past such year.
    const nowYear = new Date(now).getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + Number(rfc850[3]);
    if (year > nowYear + 50) year -= 100;
    return [rfc850[1]!, rfc850[2]!, year, rfc850[4]!, rfc850[5]!, rfc850[6]!];
  }
  const asctime = ASCTIME_DATE.exec(text);
  if (asctime)
    return [asctime[2]!.trim(), asctime[1]!, Number(asctime[6]), asctime[3]!, asctime[4]!, asctime[5]!];
  return undefined;
}

/** Milliseconds since the epoch of an HTTP-date, or undefined when it is not one. */
function parseHttpDate(text: string, now: number): number | undefined {
  const parts = httpDateParts(text, now);
  if (!parts) return undefined;
  const [dayText, monthText, year, hText, mText, sText] = parts;
  const month = MONTHS.indexOf(monthText.toLowerCase());
  const [day, hour, minute, second] = [Number(dayText), Number(hText), Number(mText), Number(sText)];
  const ms = Date.UTC(year, month, day, hour, minute, second);
  // Date.UTC rolls "31 Feb" over into March; a real date survives the round trip.
  const date = new Date(ms);
  const valid =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  return valid ? ms : undefined;
}

/**
 * A Retry-After header as milliseconds to wait: delta-seconds (`120`, fractions tolerated) or an
 * HTTP-date (a date in the past means 0). Anything else, negative values included, is undefined.
 */
export function parseRetryAfter(
  header: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (typeof header !== 'string') return undefined;
  const text = header.trim();
  if (text === '') return undefined;
  if (/^\d+(?:\.\d+)?$/.test(text)) {
    const ms = Math.ceil(Number(text) * 1000);
    return Number.isFinite(ms) ? ms : undefined;
  }
  const date = parseHttpDate(text, now);
  return date === undefined ? undefined : Math.max(0, date - now);
}
