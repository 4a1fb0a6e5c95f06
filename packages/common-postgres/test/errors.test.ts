/** pg errors to FaucetErrors: SQLSTATE classes, network failures, redaction. */
import {
  AuthError,
  ConnectionError,
  type FaucetError,
  isFaucetError,
  Redactor,
  SourceError,
} from '@faucet/core';
import { describe, expect, it } from 'vitest';
import {
  CONNECTOR,
  isServerError,
  isSqlState,
  mapPgError,
  networkReason,
  type PgErrorMapping,
  redactPgError,
} from '../src/index.js';

const serverError = (code: string, message = 'boom') =>
  Object.assign(new Error(message), { code, severity: 'ERROR' });

const mapping: PgErrorMapping = {
  name: 'postgres test',
  server: 'db:5432',
  action: 'reading "t"',
  serverText: (e) => `${e.message} (SQLSTATE ${e.code})`,
  failure: (message, options) => new SourceError(message, options),
};

const map = (error: unknown): FaucetError => mapPgError(error, mapping);

describe('SQLSTATEs', () => {
  it('recognizes five-character codes with a severity as server errors', () => {
    expect(isSqlState('42P01')).toBe(true);
    expect(isSqlState('ECONNREFUSED')).toBe(false);
    expect(isSqlState(42)).toBe(false);
    expect(isServerError(serverError('23505'))).toBe(true);
    expect(isServerError(Object.assign(new Error('x'), { code: '23505' }))).toBe(false);
    expect(isServerError(Object.assign(new Error('x'), { code: 'ECONNRESET', severity: 'ERROR' }))).toBe(
      false,
    );
    expect(isServerError(null)).toBe(false);
  });

  it('finds network failures by errno code or by pg message', () => {
    expect(networkReason(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(networkReason(new Error('Connection terminated unexpectedly'))).toBe(
      'Connection terminated unexpectedly',
    );
    expect(networkReason(new Error('syntax error'))).toBeUndefined();
    expect(networkReason('ECONNRESET')).toBeUndefined();
  });

  it('finds a connect to several addresses that failed on each, and a socket directory without a server', () => {
    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
    expect(networkReason(new AggregateError([refused('::1:5432'), refused('127.0.0.1:5432')]))).toBe(
      'connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432',
    );
    const socket = Object.assign(new Error('connect ENOENT /run/postgresql/.s.PGSQL.5432'), {
      code: 'ENOENT',
      syscall: 'connect',
    });
    expect(networkReason(socket)).toBe('connect ENOENT /run/postgresql/.s.PGSQL.5432');
    expect(networkReason(Object.assign(new Error('no such file'), { code: 'ENOENT', syscall: 'open' }))).toBe(
      undefined,
    );
  });
});

describe('mapPgError', () => {
  it('maps SQLSTATE classes: 28 auth, 08/53/57P01-57P03 connection, 40 and 55P03 retryable, others failures', () => {
    const auth = map(serverError('28P01', 'password authentication failed'));
    expect(auth).toBeInstanceOf(AuthError);
    expect(auth.message).toBe(
      'postgres test (db:5432): reading "t" failed: password authentication failed (SQLSTATE 28P01)',
    );
    for (const code of ['08006', '53300', '57P01', '57P02', '57P03']) {
      expect(map(serverError(code))).toBeInstanceOf(ConnectionError);
    }
    for (const code of ['40001', '40P01', '55P03']) {
      const retry = map(serverError(code));
      expect(retry).toBeInstanceOf(SourceError);
      expect(retry.retryable, code).toBe(true);
    }
    const syntax = map(serverError('42601'));
    expect(syntax).toBeInstanceOf(SourceError);
    expect(syntax.retryable).toBe(false);
    expect(syntax.connector).toBe(CONNECTOR);
    expect(syntax.cause).toBeInstanceOf(Error);
  });

  it('names host:port for network failures', () => {
    const error = map(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toBe('postgres test: cannot reach db:5432 while reading "t" (ECONNREFUSED)');
  });

  it("wraps anything else in the caller's failure", () => {
    const error = map('odd');
    expect(error).toBeInstanceOf(SourceError);
    expect(error.message).toBe('postgres test (db:5432): reading "t" failed: odd');
    expect(isFaucetError(error)).toBe(true);
  });

  it('uses the package text for server errors', () => {
    const error = mapPgError(
      Object.assign(serverError('23505', 'duplicate key'), { detail: 'Key (id)=(1).' }),
      {
        ...mapping,
        serverText: (e) => `${e.message} ${e.detail ?? ''} (SQLSTATE ${e.code})`,
      },
    );
    expect(error.message).toBe(
      'postgres test (db:5432): reading "t" failed: duplicate key Key (id)=(1). (SQLSTATE 23505)',
    );
  });
});

describe('redactPgError', () => {
  it('scrubs secrets from the message and the cause chain', () => {
    const redactor = new Redactor(['hunter2']);
    const error = redactPgError(map(new Error('password hunter2 rejected')), redactor);
    expect(error.message).not.toContain('hunter2');
    expect(String((error.cause as Error).message)).not.toContain('hunter2');
  });
});
