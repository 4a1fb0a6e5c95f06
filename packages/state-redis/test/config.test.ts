import { ErrorCodes } from '@faucet/core';
import redisStateStore, { createRedisStateStore, redisStateStoreConfigSchema } from '@faucet/state-redis';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
// Internal (not exported by the package): tested here through its module.
import { escapeGlob } from '../src/store.js';

describe('state-redis config', () => {
  it('has the documented defaults', () => {
    expect(redisStateStoreConfigSchema.parse({ connection_url: 'redis://127.0.0.1:6379' })).toEqual({
      connection_url: 'redis://127.0.0.1:6379',
      namespace: 'faucet',
      connect_timeout_ms: 10_000,
    });
    expect(redisStateStore.id).toBe('redis');
    expect(redisStateStore.kind).toBe('state');
  });

  it('refuses bad namespaces and URLs without echoing the URL', () => {
    const bad = redisStateStoreConfigSchema.safeParse({
      connection_url: 'http://user:hunter2-pw@example.com',
      namespace: 'a:b',
    });
    expect(bad.success).toBe(false);
    const text = JSON.stringify(bad.error?.issues);
    expect(text).toContain('namespace');
    expect(text).toContain('connection_url');
    expect(text).not.toContain('hunter2-pw');
  });

  it('wants exactly one of client and connection_url', () => {
    const client = new Redis({ lazyConnect: true });
    try {
      expect(() => createRedisStateStore({})).toThrow(
        expect.objectContaining({ code: ErrorCodes.CONFIG_INVALID }),
      );
      expect(() => createRedisStateStore({ connection_url: 'redis://127.0.0.1' }, { client })).toThrow(
        /not both/,
      );
    } finally {
      client.disconnect();
    }
  });

  it('escapes every Redis glob character', () => {
    expect(escapeGlob('a*b?c[d]e\\f_g%h')).toBe('a\\*b\\?c\\[d\\]e\\\\f_g%h');
  });
});
