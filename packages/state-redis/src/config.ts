import { secret } from '@faucet/core';
import { z } from 'zod';

const NAMESPACE_PATTERN = /^[A-Za-z0-9_.-]+$/;

function isRedisUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * What a user writes under `state: { type: redis, config: … }`. `connection_url` is marked secret: it
 * usually carries a password, and faucet redacts it from every error, log line and DLQ envelope.
 */
export const redisStateStoreConfigSchema = z.strictObject({
  connection_url: secret(
    z
      .string()
      .refine(isRedisUrl, 'must be a redis:// or rediss:// URL with a host, e.g. redis://127.0.0.1:6379/0'),
  ).describe('Redis server: redis://[user:password@]host[:port][/db], or rediss:// for TLS'),
  namespace: z
    .string()
    .max(128)
    .regex(NAMESPACE_PATTERN, 'may contain only letters, digits and _ . -')
    .default('faucet')
    .describe('Prefix of every Redis key this store writes: {namespace}:{state key}'),
  lock_refresh_ms: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("How often a held lock's expiry is pushed back (default: a third of the lock TTL)"),
  connect_timeout_ms: z
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe('Time limit for opening a connection to Redis, in ms'),
});

/** The validated config (defaults applied). */
export type RedisStateStoreConfig = z.infer<typeof redisStateStoreConfigSchema>;
/** The config as written (defaults may be left out). */
export type RedisStateStoreConfigInput = z.input<typeof redisStateStoreConfigSchema>;

/** The same settings without the connection, for a store built on an injected client. */
export const redisStateStoreClientOptionsSchema = redisStateStoreConfigSchema.omit({ connection_url: true });
