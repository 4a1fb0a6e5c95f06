/**
 * The `redis` state store: each state key's value is JSON text under `{namespace}:{key}` (SET / GET /
 * DEL), keys are listed with SCAN (never KEYS, which blocks the server), and `lock` is a token lock
 * (see lock.ts). The client is either injected (the caller owns it) or made from `connection_url`.
 */
import { hostname } from 'node:os';
import process from 'node:process';
import {
  assertLockTtl,
  assertStateKey,
  ConfigError,
  type CreateEnv,
  connectionUrlRedactor,
  coveringKey,
  encodeStateValue,
  errorMessage,
  formatIssuePath,
  type JsonValue,
  Redactor,
  StateError,
  StateLockedError,
  type StateStore,
  silentLogger,
  stateKeyProblem,
} from '@faucet/core';
import { Redis } from 'ioredis';
import type { z } from 'zod';
import {
  type RedisStateStoreConfigInput,
  redisStateStoreClientOptionsSchema,
  redisStateStoreConfigSchema,
} from './config.js';
import { CONNECTOR, type RedisTarget, serverOfClient, serverOfUrl, wrapRedisError } from './errors.js';
import { acquireRedisLock, type HeldRedisLock } from './lock.js';

/** The config, as under `state: { type: redis, config: … }`; leave `connection_url` out when a client is injected. */
export type RedisStateStoreInput = Omit<RedisStateStoreConfigInput, 'connection_url'> & {
  connection_url?: string;
};

/** What a store is created with besides its config: the plugin environment (optional), a client. */
export type RedisStateStoreOptions = Partial<CreateEnv> & {
  /** A client you own: the store uses it as is and never closes it. */
  client?: Redis;
};

/** A redis state store: always has `lock` and `close`. */
export type RedisStateStore = StateStore & Required<Pick<StateStore, 'lock' | 'close'>>;

/** Keys per SCAN call: large enough to list thousands of keys in a few round trips. */
const SCAN_COUNT = 1_000;
/** ioredis gives up on a command after this many failed reconnects, so an outage surfaces as an error. */
const MAX_RETRIES_PER_REQUEST = 2;

/**
 * A put or delete of a key under a lock this store holds: applied only while the lock still holds our
 * value, so a run that lost its lock (it expired during an outage) never writes over the run that
 * took it since. KEYS: the lock, the value; ARGV: the lock value, the text (SET) or nothing (DEL).
 */
const FENCED_SET = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  return 1
end
return 0`;
const FENCED_DEL = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
  return 1
end
return 0`;

/** Escape Redis glob characters, so a prefix is matched literally by SCAN MATCH. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function configError(issues: readonly z.core.$ZodIssue[]): ConfigError {
  return new ConfigError(
    issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message })),
    { context: 'invalid config for state "redis"' },
  );
}

/** `faucet:<pid>@<host>`: shown by CLIENT LIST, so an operator can tell which process a connection is. */
function connectionName(): string {
  return `faucet:${process.pid}@${hostname()}`.replace(/[^\x21-\x7e]/g, '_');
}

/** A Redis client of our own, connecting on first use and reconnecting while the store lives. */
function ownClient(url: string, connectTimeoutMs: number): { client: Redis; lastError: () => unknown } {
  let everReady = false;
  /** The last connection error: "max retries reached" alone would not say why. */
  let lastError: unknown;
  const client = new Redis(url, {
    // Connect on first use, so building a store (to validate a pipeline) opens nothing.
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
    // Once connected, keep reconnecting while the store lives (a long run outlasts a Redis restart),
    // backing off to 2 s. A server never reached is most likely a wrong URL: fail the call at once
    // (the next call tries again) instead of making every call sit through the backoff.
    retryStrategy: (times) => (everReady ? Math.min(times * 200, 2_000) : null),
    connectionName: connectionName(),
  });
  // Without a listener ioredis prints every failed reconnect (and an 'error' nobody hears would crash
  // the process); the reason is reported with the operation that fails instead.
  client.on('error', (error: unknown) => {
    lastError = error;
  });
  client.on('ready', () => {
    everReady = true;
    lastError = undefined;
  });
  return { client, lastError: () => lastError };
}

/**
 * A redis state store, created like every plugin: `createRedisStateStore(config, { logger, redactor })`,
 * or `createRedisStateStore({ namespace }, { client })` over a client you own.
 */
export function createRedisStateStore(
  input: RedisStateStoreInput,
  options: RedisStateStoreOptions = {},
): RedisStateStore {
  const { connection_url, ...settings } = input;
  const { client: injected } = options;
  const logger = options.logger ?? silentLogger;
  if (injected !== undefined && connection_url !== undefined) {
    throw new ConfigError('give either client or connection_url, not both', {
      context: 'invalid config for state "redis"',
    });
  }
  let client: Redis;
  let target: RedisTarget;
  let config: z.infer<typeof redisStateStoreClientOptionsSchema>;
  let lastConnectionError: () => unknown = () => undefined;
  if (injected === undefined) {
    const parsed = redisStateStoreConfigSchema.safeParse({ ...settings, connection_url });
    if (!parsed.success) throw configError(parsed.error.issues);
    const { connection_url: url, ...rest } = parsed.data;
    config = rest;
    const redactor = connectionUrlRedactor(url).merge(options.redactor ?? Redactor.forConfig(parsed.data));
    target = { server: serverOfUrl(url), redactor };
    ({ client, lastError: lastConnectionError } = ownClient(url, config.connect_timeout_ms));
  } else {
    const parsed = redisStateStoreClientOptionsSchema.safeParse(settings);
    if (!parsed.success) throw configError(parsed.error.issues);
    config = parsed.data;
    client = injected;
    target = { server: serverOfClient(injected.options), redactor: options.redactor ?? new Redactor() };
  }
  const namespace = config.namespace;
  const valueKey = (key: string) => `${namespace}:${key}`;
  // `#` cannot occur in a state key, so no state key's value ever lands on a lock.
  const lockKey = (key: string) => `${namespace}:lock#${key}`;

  let closed = false;
  /** Locks this store holds, by state key. */
  const heldLocks = new Map<string, HeldRedisLock>();
  /** The held lock that covers a key: its own, or its parent's (`{key}::{partition}`). */
  const lockCovering = (key: string): [string, HeldRedisLock] | undefined => {
    const locked = coveringKey(heldLocks.keys(), key);
    const lock = locked === undefined ? undefined : heldLocks.get(locked);
    return locked === undefined || lock === undefined ? undefined : [locked, lock];
  };

  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    if (closed) {
      throw new StateError(`redis state store: ${what} failed: the store is closed`, {
        connector: CONNECTOR,
      });
    }
    // A client of ours that gave up connecting stays ended until asked to connect again.
    if (injected === undefined && client.status === 'end') {
      client.connect().catch(() => undefined);
    }
    try {
      return await run();
    } catch (error) {
      throw wrapRedisError(error, what, target, lastConnectionError());
    }
  };

  /**
   * Run a write: plainly, or fenced on the lock that covers its key. A fenced write that finds the
   * lock gone takes the lock again first (when nobody else has it), else fails with STATE_LOCKED.
   */
  const write = async (
    key: string,
    what: string,
    plain: () => Promise<unknown>,
    script: string,
    text?: string,
  ): Promise<void> => {
    const covering = lockCovering(key);
    if (covering === undefined) {
      await call(what, plain);
      return;
    }
    const [locked, lock] = covering;
    const args = text === undefined ? [] : [text];
    const fenced = () => client.eval(script, 2, lockKey(locked), valueKey(key), lock.value, ...args);
    if ((await call(what, fenced)) === 1) return;
    await lock.regain();
    if ((await call(what, fenced)) === 1) return;
    throw new StateLockedError(locked, 'another run; the lock changed hands while this run took it again', {
      connector: CONNECTOR,
    });
  };

  return {
    durable: true,

    async get(key) {
      assertStateKey(key);
      const text = await call(`get of "${key}"`, () => client.get(valueKey(key)));
      if (text === null) return undefined;
      try {
        return JSON.parse(text) as JsonValue;
      } catch (error) {
        // Never read as "no bookmark": that would silently restart the pipeline from the beginning.
        throw new StateError(
          `redis state store: the value of state key "${key}" (Redis key "${valueKey(key)}" on ` +
            `${target.server}) is not valid JSON (${errorMessage(error)}); it was written by another ` +
            'tool: fix it, or delete it to start this key over',
          { cause: error, connector: CONNECTOR },
        );
      }
    },

    async put(key, value) {
      assertStateKey(key);
      const text = encodeStateValue(key, value, { connector: CONNECTOR });
      // One SET replaces the value atomically; commands on one connection apply in call order.
      await write(key, `put of "${key}"`, () => client.set(valueKey(key), text), FENCED_SET, text);
    },

    async delete(key) {
      assertStateKey(key);
      await write(key, `delete of "${key}"`, () => client.del(valueKey(key)), FENCED_DEL);
    },

    async list(prefix = '') {
      const what = prefix ? `list (prefix "${prefix}")` : 'list';
      const pattern = `${escapeGlob(valueKey(prefix))}*`;
      const found = new Set<string>();
      let cursor = '0';
      do {
        const [next, batch] = await call(what, () =>
          client.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT),
        );
        cursor = next;
        // SCAN may return a key more than once; the Set folds repeats.
        for (const redisKey of batch) {
          const key = redisKey.slice(namespace.length + 1);
          // Locks (`lock#…`) and keys other tools wrote under the namespace are not state keys.
          if (key.startsWith(prefix) && stateKeyProblem(key) === undefined) found.add(key);
        }
      } while (cursor !== '0');
      return [...found].sort();
    },

    async lock(key, ttlMs) {
      assertStateKey(key);
      assertLockTtl(ttlMs);
      const refreshMs = config.lock_refresh_ms ?? Math.max(1, Math.floor(ttlMs / 3));
      if (refreshMs >= ttlMs) {
        throw new ConfigError(
          `lock_refresh_ms (${refreshMs}) must be shorter than the lock TTL (${ttlMs} ms), or the lock ` +
            'expires before it is refreshed',
          { context: 'invalid config for state "redis"' },
        );
      }
      const held = await acquireRedisLock({
        client,
        key,
        lockKey: lockKey(key),
        ttlMs,
        refreshMs,
        logger,
        call,
      });
      heldLocks.set(key, held);
      return async () => {
        await held.release();
        if (heldLocks.get(key) === held) heldLocks.delete(key);
      };
    },

    /** Releases locks still held, then closes the client this store made (never an injected one). */
    async close() {
      if (closed) return;
      await Promise.allSettled([...heldLocks.values()].map((held) => held.release()));
      closed = true;
      if (injected !== undefined) return;
      if (client.status === 'ready') {
        await client.quit().catch(() => client.disconnect());
      } else {
        client.disconnect();
      }
    },
  };
}
