/** A source's error wrapping: pass-through, cancellation, mapping, redaction. */
import { CancelledError, Redactor, SourceError } from '@faucet/core';
import { describe, expect, it } from 'vitest';
import { type SourceErrorContext, wrapSourcePgError } from '../src/index.js';

const context: SourceErrorContext = {
  name: 'postgres test source',
  server: 'db:5432',
  action: 'reading "t"',
  serverText: (e) => `${e.message} (SQLSTATE ${e.code})`,
  connector: 'postgres-test',
  redactor: new Redactor(['hunter2']),
};

describe('wrapSourcePgError', () => {
  it('passes a FaucetError through', () => {
    const error = new SourceError('already ours');
    expect(wrapSourcePgError(error, context)).toBe(error);
  });

  it('reports a failure after the signal aborted as a cancellation', () => {
    const controller = new AbortController();
    controller.abort();
    const error = wrapSourcePgError(new Error('socket closed'), { ...context, signal: controller.signal });
    expect(error).toBeInstanceOf(CancelledError);
    expect(error.message).toBe('postgres test source (db:5432): reading "t" was cancelled');
    expect(error.connector).toBe('postgres-test');
  });

  it('maps server errors to a SourceError and scrubs secrets', () => {
    const server = Object.assign(new Error('password hunter2 rejected'), {
      code: '42501',
      severity: 'ERROR',
    });
    const error = wrapSourcePgError(server, context);
    expect(error).toBeInstanceOf(SourceError);
    expect(error.message).toContain('postgres test source (db:5432): reading "t" failed:');
    expect(error.message).toContain('(SQLSTATE 42501)');
    expect(error.message).not.toContain('hunter2');
  });
});
