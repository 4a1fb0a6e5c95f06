import { describe, expect, it, vi } from 'vitest';
import {
  AuthError,
  abortableSleep,
  CancelledError,
  ConfigError,
  ConnectionError,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  RateLimitedError,
  type RetryInfo,
  type RetryOptions,
  resolveRetryPolicy,
  retry,
  retryPolicyFromConfig,
  retryPolicySchema,
} from '../src/index.js';

/** A sleep that records the delays and returns at once. */
function recordingSleep() {
  const delays: number[] = [];
  const sleep = async (ms: number) => {
    delays.push(ms);
  };
  return { delays, sleep };
}

/** An operation that throws the given errors in turn, then returns 'ok'. */
function failing(...errors: unknown[]) {
  const calls: number[] = [];
  const operation = vi.fn(async (attempt: number, _signal: AbortSignal) => {
    calls.push(attempt);
    const error = errors[calls.length - 1];
    if (error !== undefined) throw error;
    return 'ok';
  });
  return { calls, operation };
}

const noJitter = { jitter: false } as const;

describe('retry policy', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({
      maxAttempts: 3,
      baseDelayMs: 200,
      maxDelayMs: 30_000,
      jitter: true,
      maxRetryAfterMs: 300_000,
      maxRateLimitWaits: 10,
    });
    expect(resolveRetryPolicy()).toEqual(DEFAULT_RETRY_POLICY);
  });

  it('reads snake_case config with defaults and rejects unknown keys and bad values', () => {
    const config = retryPolicySchema.parse({ max_attempts: 5, jitter: false });
    expect(retryPolicyFromConfig(config)).toEqual({ ...DEFAULT_RETRY_POLICY, maxAttempts: 5, jitter: false });
    expect(retryPolicySchema.prefault({}).parse(undefined)).toEqual({
      max_attempts: 3,
      base_delay_ms: 200,
      max_delay_ms: 30_000,
      jitter: true,
      max_retry_after_ms: 300_000,
      max_rate_limit_waits: 10,
    });
    expect(retryPolicySchema.safeParse({ max_attempt: 5 }).success).toBe(false);
    expect(retryPolicySchema.safeParse({ max_attempts: 0 }).success).toBe(false);
    expect(retryPolicySchema.safeParse({ base_delay_ms: -1 }).success).toBe(false);
    expect(retryPolicySchema.safeParse({ max_delay_ms: 1.5 }).success).toBe(false);
  });

  it('rejects a bad programmatic policy with a ConfigError naming the key', async () => {
    const { operation } = failing();
    await expect(retry(operation, { policy: { maxAttempts: 0 } })).rejects.toThrow(ConfigError);
    await expect(retry(operation, { policy: { baseDelayMs: Number.NaN } })).rejects.toThrow(/baseDelayMs/);
    expect(operation).not.toHaveBeenCalled();
  });
});

describe('retry', () => {
  it('returns the first success and passes the attempt number and a signal', async () => {
    const { calls, operation } = failing(new ConnectionError('reset'), new ConnectionError('reset'));
    const { delays, sleep } = recordingSleep();
    await expect(retry(operation, { sleep, policy: noJitter })).resolves.toBe('ok');
    expect(calls).toEqual([1, 2, 3]);
    expect(delays).toEqual([200, 400]);
    expect(operation.mock.calls[0]?.[1]).toBeInstanceOf(AbortSignal);
  });

  it('backs off exponentially up to the per-sleep cap and rethrows the last error unchanged', async () => {
    const errors = [1, 2, 3, 4, 5].map((n) => new ConnectionError(`failure ${n}`));
    const { operation } = failing(...errors);
    const { delays, sleep } = recordingSleep();
    const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 350, jitter: false };
    const outcome = retry(operation, { sleep, policy });
    await expect(outcome).rejects.toBe(errors[4]);
    expect(operation).toHaveBeenCalledTimes(5);
    expect(delays).toEqual([100, 200, 350, 350]);
  });

  it('rethrows a non-retryable error at once, the same object', async () => {
    for (const error of [new Error('bug'), new AuthError('bad token'), new CancelledError()]) {
      const { operation } = failing(error);
      const { delays, sleep } = recordingSleep();
      await expect(retry(operation, { sleep })).rejects.toBe(error);
      expect(operation).toHaveBeenCalledTimes(1);
      expect(delays).toEqual([]);
    }
  });

  it('retries Node transport errors by default', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const { operation } = failing(reset);
    const { sleep } = recordingSleep();
    await expect(retry(operation, { sleep })).resolves.toBe('ok');
  });

  it('jitters each backoff by a factor in [0.5, 1.5), then caps it', async () => {
    const policy = { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 30_000 };
    const run = async (random: () => number, extra: Partial<typeof policy> = {}) => {
      const { sleep, delays } = recordingSleep();
      const { operation } = failing(...[1, 2, 3, 4].map(() => new ConnectionError('x')));
      await expect(retry(operation, { sleep, random, policy: { ...policy, ...extra } })).rejects.toThrow();
      return delays;
    };
    expect(await run(() => 0)).toEqual([500, 1000, 2000]);
    expect(await run(() => 0.5)).toEqual([1000, 2000, 4000]);
    const high = await run(() => 0.999_999);
    expect(high.every((d, i) => d < 1.5 * 1000 * 2 ** i && d > 1.49 * 1000 * 2 ** i)).toBe(true);
    expect(await run(() => 0.999_999, { maxDelayMs: 2500 })).toEqual([1499, 2500, 2500]);
    for (let i = 0; i < 50; i += 1) {
      const [first = 0] = await run(Math.random);
      expect(first).toBeGreaterThanOrEqual(500);
      expect(first).toBeLessThan(1500);
    }
  });

  it('waits exactly the Retry-After without using up an attempt', async () => {
    const limited = () => new RateLimitedError('429', { retryAfterMs: 1234 });
    const { calls, operation } = failing(limited(), limited(), limited());
    const { delays, sleep } = recordingSleep();
    const infos: RetryInfo[] = [];
    const options: RetryOptions = { sleep, policy: { maxAttempts: 1 }, onRetry: (info) => infos.push(info) };
    await expect(retry(operation, options)).resolves.toBe('ok');
    expect(calls).toEqual([1, 2, 3, 4]);
    expect(delays).toEqual([1234, 1234, 1234]);
    expect(infos.map((i) => [i.attempt, i.delayMs, i.rateLimited])).toEqual([
      [1, 1234, true],
      [2, 1234, true],
      [3, 1234, true],
    ]);
  });

  it('caps a Retry-After at maxRetryAfterMs', async () => {
    const hour = new RateLimitedError('429', { retryAfterMs: 3_600_000 });
    const { sleep, delays } = recordingSleep();
    await retry(failing(hour).operation, { sleep });
    await retry(failing(hour).operation, { sleep, policy: { maxRetryAfterMs: 5000 } });
    expect(delays).toEqual([300_000, 5000]);
  });

  it('lets only maxRateLimitWaits consecutive waits go free; later ones use up attempts', async () => {
    const errors = [1, 2, 3, 4, 5].map((n) => new RateLimitedError(`429 #${n}`, { retryAfterMs: 50 }));
    const { operation } = failing(...errors);
    const { delays, sleep } = recordingSleep();
    const policy = { maxAttempts: 2, maxRateLimitWaits: 2 };
    await expect(retry(operation, { sleep, policy })).rejects.toBe(errors[3]);
    // two free waits, then attempt 1 of 2 is used (still waiting what the server asked), then the end
    expect(operation).toHaveBeenCalledTimes(4);
    expect(delays).toEqual([50, 50, 50]);
  });

  it('counts only consecutive rate-limit waits: an ordinary failure resets the count', async () => {
    const limited = () => new RateLimitedError('429', { retryAfterMs: 10 });
    const { operation } = failing(limited(), limited(), new ConnectionError('reset'), limited(), limited());
    const { delays, sleep } = recordingSleep();
    const policy = { maxAttempts: 2, maxRateLimitWaits: 2, jitter: false, baseDelayMs: 7 };
    await expect(retry(operation, { sleep, policy })).resolves.toBe('ok');
    expect(delays).toEqual([10, 10, 7, 10, 10]);
  });

  it('treats a RateLimitedError without Retry-After as an ordinary failure', async () => {
    const errors = [new RateLimitedError('429'), new RateLimitedError('429')];
    const { delays, sleep } = recordingSleep();
    const outcome = retry(failing(...errors).operation, { sleep, policy: { maxAttempts: 2, jitter: false } });
    await expect(outcome).rejects.toBe(errors[1]);
    expect(delays).toEqual([200]);
  });

  it('accepts custom isRetryable and retryAfterMs (e.g. a raw HTTP response error)', async () => {
    const error503 = { status: 503, headers: { 'retry-after': '2' } };
    const error400 = { status: 400, headers: {} };
    const options = (sleep: (ms: number) => Promise<void>): RetryOptions => ({
      sleep,
      isRetryable: (e) => (e as { status: number }).status >= 500,
      retryAfterMs: (e) => parseRetryAfter((e as { headers: Record<string, string> }).headers['retry-after']),
    });
    const first = recordingSleep();
    await expect(retry(failing(error503).operation, options(first.sleep))).resolves.toBe('ok');
    expect(first.delays).toEqual([2000]);
    const second = recordingSleep();
    await expect(retry(failing(error400).operation, options(second.sleep))).rejects.toBe(error400);
    expect(second.delays).toEqual([]);
  });

  it('ignores errors thrown or rejected by onRetry', async () => {
    const { sleep } = recordingSleep();
    const throwing = retry(failing(new ConnectionError('a')).operation, {
      sleep,
      onRetry: () => {
        throw new Error('metrics are down');
      },
    });
    await expect(throwing).resolves.toBe('ok');
    const rejecting = retry(failing(new ConnectionError('a')).operation, {
      sleep,
      onRetry: async () => {
        throw new Error('async metrics are down');
      },
    });
    await expect(rejecting).resolves.toBe('ok');
  });

  it('never calls the operation when the signal is already aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('shutdown');
    controller.abort(reason);
    const { operation } = failing();
    const outcome = retry(operation, { signal: controller.signal });
    await expect(outcome).rejects.toBeInstanceOf(CancelledError);
    await expect(outcome).rejects.toHaveProperty('cause', reason);
    expect(operation).not.toHaveBeenCalled();
  });

  it('stops a backoff sleep as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const { operation } = failing(new ConnectionError('down'));
    // The backoff is a minute long: the test can only pass in time if the abort ends the sleep.
    const outcome = retry(operation, { signal: controller.signal, policy: { baseDelayMs: 60_000 } });
    setTimeout(() => controller.abort('stop'), 20);
    await expect(outcome).rejects.toBeInstanceOf(CancelledError);
    await expect(outcome).rejects.toHaveProperty('cause', 'stop');
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('stops waiting on abort even when an injected sleep ignores the signal', async () => {
    const controller = new AbortController();
    const sleep = () => new Promise<void>(() => {});
    const outcome = retry(failing(new ConnectionError('down')).operation, {
      signal: controller.signal,
      sleep,
    });
    setTimeout(() => controller.abort(), 5);
    await expect(outcome).rejects.toBeInstanceOf(CancelledError);
  });

  it('does not retry when the signal aborted while the operation ran', async () => {
    const controller = new AbortController();
    const { sleep, delays } = recordingSleep();
    const operation = vi.fn(async () => {
      controller.abort();
      throw new ConnectionError('aborted mid-request');
    });
    await expect(retry(operation, { signal: controller.signal, sleep })).rejects.toBeInstanceOf(
      CancelledError,
    );
    expect(operation).toHaveBeenCalledTimes(1);
    expect(delays).toEqual([]);
  });
});

describe('abortableSleep', () => {
  it('resolves after the delay', async () => {
    await expect(abortableSleep(1)).resolves.toBeUndefined();
    await expect(abortableSleep(-5, new AbortController().signal)).resolves.toBeUndefined();
  });

  it('rejects with CancelledError at once when the signal aborts or has aborted', async () => {
    const controller = new AbortController();
    const sleeping = abortableSleep(60_000, controller.signal);
    controller.abort('why');
    await expect(sleeping).rejects.toBeInstanceOf(CancelledError);
    await expect(sleeping).rejects.toHaveProperty('cause', 'why');
    await expect(abortableSleep(60_000, controller.signal)).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2015, 9, 21, 7, 28, 0);

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    expect(parseRetryAfter('1.5')).toBe(1500);
  });

  it('reads the three HTTP-date forms of RFC 9110', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wednesday, 21-Oct-15 07:28:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed Oct 21 07:28:30 2015', now)).toBe(30_000);
    expect(parseRetryAfter('Wed Oct  1 07:28:30 2015', now)).toBe(0);
  });

  it('turns a date in the past into 0', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0);
    // RFC 850 two-digit years: more than 50 years ahead means the previous century
    expect(parseRetryAfter('Thursday, 21-Oct-99 07:28:30 GMT', now)).toBe(0);
    expect(parseRetryAfter('Tuesday, 21-Oct-64 07:28:30 GMT', now)).toBe(
      Date.UTC(2064, 9, 21, 7, 28, 30) - now,
    );
  });

  it('returns undefined for negative numbers, garbage, impossible dates and no header', () => {
    for (const header of [
      '-1',
      '',
      'soon',
      '1e3',
      '10s',
      'Wed, 31 Feb 2015 07:28:30 GMT',
      '2015-10-21T07:28:30Z',
    ]) {
      expect(parseRetryAfter(header, now), header).toBeUndefined();
    }
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
