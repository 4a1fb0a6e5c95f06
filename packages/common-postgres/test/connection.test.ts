/** The connection_url field, server names for messages, and pools of our own. */
import { type Logger, Redactor, secretPaths } from '@faucet/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { connectionUrlSchema, connectTimeoutMsSchema, createOwnedPool, serverName } from '../src/index.js';

describe('connection_url', () => {
  const schema = z.strictObject({ connection_url: connectionUrlSchema() });
  const messages = (url: string) =>
    schema.safeParse({ connection_url: url }).error?.issues.map((i) => i.message);

  it('takes postgres:// and postgresql:// URLs', () => {
    expect(schema.safeParse({ connection_url: 'postgres://u:p@localhost/db' }).success).toBe(true);
    expect(
      schema.safeParse({ connection_url: 'POSTGRESQL://localhost:5433/db?sslmode=require' }).success,
    ).toBe(true);
  });

  it('refuses other schemes and URLs that do not parse', () => {
    expect(messages('mysql://x/y')).toEqual(['expected a postgres:// or postgresql:// URL']);
    expect(messages('postgres://u:p@ss@host:port/db')).toEqual([
      'not a valid URL (percent-encode special characters in the password)',
    ]);
    expect(messages('')).toContain('expected a postgres:// or postgresql:// URL');
  });

  it('is a secret, with a description', () => {
    const json = z.toJSONSchema(schema) as Parameters<typeof secretPaths>[0];
    expect(secretPaths(json)).toEqual(['connection_url']);
    expect(connectionUrlSchema().description).toBe(
      'postgres://user:password@host:5432/database?sslmode=… (standard libpq URL)',
    );
  });
});

describe('connect_timeout_ms', () => {
  it('takes whole positive milliseconds, 10 s by default', () => {
    const schema = connectTimeoutMsSchema();
    expect(schema.parse(undefined)).toBe(10_000);
    expect(schema.parse(250)).toBe(250);
    expect(schema.safeParse(0).success).toBe(false);
    expect(schema.safeParse(1.5).success).toBe(false);
    expect(schema.description).toBe('Time limit for opening a connection, in ms');
  });
});

describe('serverName', () => {
  it('names host:port, never the user or password', () => {
    expect(serverName('postgres://alice:s3cret@db.example.com:6543/app')).toBe('db.example.com:6543');
    expect(serverName('postgres://alice:s3cret@db.example.com/app')).toBe('db.example.com:5432');
  });

  it('reads host and port from the query when the URL has no host', () => {
    expect(serverName('postgres:///app?host=/var/run/postgresql&port=5433')).toBe('/var/run/postgresql:5433');
    expect(serverName('postgresql:///app')).toBe('localhost:5432');
  });

  it('falls back to a neutral name for text that is not a URL', () => {
    expect(serverName('host=x password=y')).toBe('the configured server');
  });
});

describe('createOwnedPool', () => {
  it('makes a pool that ends once, and logs idle-client errors redacted', async () => {
    const warnings: Array<{ message: string; fields: unknown }> = [];
    const logger: Logger = {
      debug() {},
      info() {},
      warn(message, fields) {
        warnings.push({ message, fields });
      },
      error() {},
    };
    const owned = createOwnedPool(
      {
        connectionUrl: 'postgres://u:hunter2@127.0.0.1:1/db',
        max: 1,
        connectTimeoutMs: 100,
        applicationName: 'faucet-test',
        logName: 'postgres test',
      },
      logger,
      new Redactor(['hunter2']),
    );
    expect(owned.pool.options.max).toBe(1);
    expect(owned.pool.options.application_name).toBe('faucet-test');
    owned.pool.emit('error', new Error('lost hunter2'));
    expect(warnings).toEqual([
      { message: 'postgres test: an idle connection failed', fields: { error: 'lost ***' } },
    ]);
    const first = owned.end();
    expect(owned.end()).toBe(first);
    await first;
  });
});
