import { ErrorCodes } from '@faucet/core';
import postgresStateStore, {
  createPostgresStateStore,
  postgresStateStoreConfigSchema,
} from '@faucet/state-postgres';
import { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
// Internal (not exported by the package): tested here through its module.
import { escapeLike } from '../src/store.js';

describe('state-postgres config', () => {
  it('has the documented defaults', () => {
    expect(postgresStateStoreConfigSchema.parse({ connection_url: 'postgres://u@127.0.0.1/db' })).toEqual({
      connection_url: 'postgres://u@127.0.0.1/db',
      table: 'faucet_state',
      ensure_table: true,
      max_connections: 5,
      connect_timeout_ms: 10_000,
    });
    expect(postgresStateStore.id).toBe('postgres');
    expect(postgresStateStore.kind).toBe('state');
  });

  it('accepts table and schema.table, and refuses anything that needs more than quoting', () => {
    const ok = (table: string) =>
      postgresStateStoreConfigSchema.safeParse({ connection_url: 'postgres://h/db', table }).success;
    expect(ok('faucet_state')).toBe(true);
    expect(ok('etl.faucet_state')).toBe(true);
    expect(ok('a'.repeat(63))).toBe(true);
    for (const bad of ['a'.repeat(64), 'a.b.c', 'drop table x;', 'x"y', '', 'with-dash']) {
      expect(ok(bad), bad).toBe(false);
    }
  });

  it('refuses bad URLs and a pool of one (a held lock would starve it), without echoing the URL', () => {
    const bad = postgresStateStoreConfigSchema.safeParse({
      connection_url: 'mysql://u:hunter2-pw@h/db',
      max_connections: 1,
    });
    expect(bad.success).toBe(false);
    const text = JSON.stringify(bad.error?.issues);
    expect(text).toContain('connection_url');
    expect(text).toContain('max_connections');
    expect(text).not.toContain('hunter2-pw');
  });

  it('wants exactly one of pool and connection_url', async () => {
    const pool = new Pool();
    try {
      expect(() => createPostgresStateStore({})).toThrow(
        expect.objectContaining({ code: ErrorCodes.CONFIG_INVALID }),
      );
      expect(() => createPostgresStateStore({ connection_url: 'postgres://h/db' }, { pool })).toThrow(
        /not both/,
      );
    } finally {
      await pool.end();
    }
  });

  it('escapes LIKE wildcards and the escape character', () => {
    expect(escapeLike('a%b_c\\d*e')).toBe('a\\%b\\_c\\\\d*e');
  });
});
