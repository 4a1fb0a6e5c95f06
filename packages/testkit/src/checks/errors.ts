/**
 * Rule typed-errors against an unreachable server: every operation fails (within a time limit) with
 * a FaucetError that has a code, names the host and port, and never shows the password.
 */
import {
  type FaucetRecord,
  isFaucetError,
  type Sink,
  type Source,
  type StateStore,
  silentLogger,
} from '@faucet/core';
import { type ConnectorKind, describeError, type Violation, violation } from '../conformance-error.js';
import { defaultRecord } from '../dataset.js';
import { settle, TimeLimitExceeded, within, writeContext } from '../env.js';
import { errorTexts, leaks, masked } from './inspect.js';

export interface UnreachableTarget<T> {
  /** Build the connector aimed at a closed port (e.g. 127.0.0.1:1), with a password in its config. */
  create: () => T | Promise<T>;
  host: string;
  port: number;
  /** The password (or token) in that config; it must not appear in any error. */
  password?: string;
}

export interface UnreachableCheck<T> extends UnreachableTarget<T> {
  name: string;
  /** Time limit for one operation (default 20 s): a connector must time out, not hang. */
  timeoutMs?: number;
}

interface Context {
  fail: Violation;
  target: UnreachableCheck<unknown>;
  timeoutMs: number;
}

/** Judge one error from an operation against the unreachable server. */
export function judgeConnectionError(
  fail: Violation,
  operation: string,
  error: unknown,
  target: { host: string; port: number; password?: string },
): void {
  if (error instanceof TimeLimitExceeded) {
    fail(
      `${operation} against an unreachable server did not fail in time (${error.message}); use a connect ` +
        `timeout`,
    );
  }
  if (!isFaucetError(error)) {
    fail(
      `${operation} threw a raw ${describeError(error)}; wrap client errors in a FaucetError ` +
        '(e.g. ConnectionError) and keep the client error as its cause',
      error,
    );
  }
  if (typeof error.code !== 'string' || error.code === '')
    fail(`${operation} threw a FaucetError without a code`);
  const password = target.password;
  if (password) {
    const found = leaks(errorTexts(error), password);
    if (found.length > 0) {
      fail(`${operation} failed with an error whose ${found.join(', ')} contains the password`);
    }
  }
  const message = error.message;
  const port = new RegExp(`(^|[^0-9])${target.port}([^0-9]|$)`);
  if (!message.includes(target.host) || !port.test(message)) {
    fail(
      `${operation} failed with "${password ? masked(message, password) : message}", which does not name ` +
        `the server it could not reach (${target.host}:${target.port})`,
    );
  }
}

async function attempt(ctx: Context, operation: string, run: () => Promise<unknown>): Promise<boolean> {
  const outcome = await settle(within(Promise.resolve().then(run), ctx.timeoutMs, operation));
  if (outcome.ok) return false;
  judgeConnectionError(ctx.fail, operation, outcome.error, ctx.target);
  return true;
}

async function open<T>(ctx: Context, create: () => T | Promise<T>): Promise<T | undefined> {
  const outcome = await settle(within(Promise.resolve().then(create), ctx.timeoutMs, 'create()'));
  if (outcome.ok) return outcome.value;
  // Connecting eagerly in create() is fine: then create() is the operation that must fail well.
  judgeConnectionError(ctx.fail, 'create()', outcome.error, ctx.target);
  return undefined;
}

function context<T>(kind: ConnectorKind, check: UnreachableCheck<T>): Context {
  return {
    fail: violation(kind, check.name, 'typed-errors'),
    target: check as UnreachableCheck<unknown>,
    timeoutMs: check.timeoutMs ?? 20_000,
  };
}

export async function assertSourceUnreachable(check: UnreachableCheck<Source>): Promise<void> {
  const ctx = context('source', check);
  const source = await open(ctx, check.create);
  if (!source) return;
  try {
    if (
      source.check &&
      !(await attempt(ctx, 'check()', () => (source.check as () => Promise<void>).call(source)))
    ) {
      ctx.fail('check() succeeded against an unreachable server');
    }
    const iterator = source
      .read({
        bookmark: undefined,
        batchSize: 10,
        signal: new AbortController().signal,
        logger: silentLogger,
      })
      [Symbol.asyncIterator]();
    if (!(await attempt(ctx, 'read()', () => iterator.next()))) {
      ctx.fail('read() yielded a page from an unreachable server');
    }
  } finally {
    await settle(
      within(
        Promise.resolve().then(() => source.close?.()),
        ctx.timeoutMs,
        'close()',
      ),
    );
  }
}

export async function assertSinkUnreachable(
  check: UnreachableCheck<Sink> & { record?: FaucetRecord },
): Promise<void> {
  const ctx = context('sink', check);
  const sink = await open(ctx, check.create);
  if (!sink) return;
  try {
    const probe = sinkCheck(sink);
    if (probe && !(await attempt(ctx, 'check()', probe)))
      ctx.fail('check() succeeded against an unreachable server');
    const record = check.record ?? defaultRecord(0);
    const wrote = await attempt(ctx, 'write()', () => sink.write([record], writeContext()));
    const flushed =
      !wrote && sink.flush ? await attempt(ctx, 'flush()', () => sink.flush?.() as Promise<void>) : wrote;
    if (!flushed) ctx.fail('write() and flush() both succeeded against an unreachable server');
  } finally {
    await settle(
      within(
        Promise.resolve().then(() => sink.close?.()),
        ctx.timeoutMs,
        'close()',
      ),
    );
  }
}

/** The contract gives sinks no check(), but a sink may offer one; when it does, it is exercised. */
export function sinkCheck(sink: Sink): (() => Promise<void>) | undefined {
  const check = (sink as { check?: unknown }).check;
  return typeof check === 'function' ? () => Promise.resolve(check.call(sink)) : undefined;
}

export async function assertStateStoreUnreachable(check: UnreachableCheck<StateStore>): Promise<void> {
  const ctx = context('state store', check);
  const store = await open(ctx, check.create);
  if (!store) return;
  try {
    if (!(await attempt(ctx, 'get()', () => store.get('conformance.unreachable')))) {
      ctx.fail('get() succeeded against an unreachable server');
    }
    if (!(await attempt(ctx, 'put()', () => store.put('conformance.unreachable', 1)))) {
      ctx.fail('put() succeeded against an unreachable server');
    }
  } finally {
    await settle(
      within(
        Promise.resolve().then(() => store.close?.()),
        ctx.timeoutMs,
        'close()',
      ),
    );
  }
}
