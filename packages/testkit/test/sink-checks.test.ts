/**
 * Every sink check passes on a good double and fails (with its own rule) on a broken one.
 */
import type { FaucetRecord } from '@faucet/core';
import {
  assertEffectivelyOnce,
  assertKeyedUpsert,
  assertRowFailures,
  assertSinkCancellation,
  assertSinkCrashResume,
  assertSinkDelivers,
  assertSinkUnreachable,
  memorySink,
} from '@faucet/testkit';
import { describe, expect, it } from 'vitest';
import { downSink, leakyRefusal, namelessRefusal, rawRefusal, toySink } from './broken.js';
import { closedPort, dataset, destination, mustBreak, refused } from './helpers.js';

const base = { name: 'toy', dataset };
const appendSink = () => destination((storage) => memorySink({ storage }));
const keyedSink = () => destination((storage) => memorySink({ storage, mode: 'keyed' }));
const rejectBad = (record: FaucetRecord) => (record.bad ? 'bad row: constraint violated' : undefined);
const badRecord: FaucetRecord = { id: -1, name: 'bad', bad: true };

describe('delivery', () => {
  it('passes on the memory sink', () => assertSinkDelivers({ ...base, ...appendSink() }));
  it.fails('fails on a sink that silently drops rows', () =>
    mustBreak('delivery', () =>
      assertSinkDelivers({ ...base, ...destination((s) => toySink(s, { dropEvery: 10 })) }),
    ));
});

describe('crash-resume', () => {
  it('passes on the memory sink (at most one page of duplicates)', () =>
    assertSinkCrashResume({ ...base, ...appendSink() }));
  it('passes on the keyed memory sink (no duplicates)', () =>
    assertSinkCrashResume({ ...base, ...keyedSink(), keyed: true }));
  it.fails('fails on a sink whose flush() resolves before the rows are durable', () =>
    mustBreak('crash-resume', () =>
      assertSinkCrashResume({ ...base, ...destination((s) => toySink(s, { persistEveryFlush: 3 })) }),
    ));
  it.fails('fails on an append sink that declares keyed (duplicates after a crash)', () =>
    mustBreak('crash-resume', () => assertSinkCrashResume({ ...base, ...appendSink(), keyed: true })));
});

describe('row-failures', () => {
  const check = (make: Parameters<typeof destination>[0]) => () =>
    assertRowFailures({ ...base, ...destination(make), badRecord });
  it(
    'passes on the memory sink rejecting bad rows',
    check((storage) => memorySink({ storage, rejectRow: rejectBad })),
  );
  it(
    'passes on a sink that reports failures truthfully',
    check((s) => toySink(s)),
  );
  it.fails('fails on a sink reporting out-of-range indexes', () =>
    mustBreak(
      'row-failures',
      check((s) => toySink(s, { reportFailure: (i, n) => [i + n] })),
    ));
  it.fails('fails on a sink reporting one failure twice', () =>
    mustBreak(
      'row-failures',
      check((s) => toySink(s, { reportFailure: (i) => [i, i] })),
    ));
  it.fails('fails on a sink reporting the wrong row (off by one)', () =>
    mustBreak(
      'row-failures',
      check((s) => toySink(s, { reportFailure: (i) => [i + 1] })),
    ));
  it.fails('fails on a sink that writes rows it reported failed', () =>
    mustBreak(
      'row-failures',
      check((s) => toySink(s, { writeRejected: true })),
    ));
  it.fails('fails on a sink that drops bad rows without reporting them', () =>
    mustBreak(
      'row-failures',
      check((s) => toySink(s, { hideRejected: true })),
    ));
  it('names the connector, the rule and the bad index in its message', async () => {
    const error = await check((s) => toySink(s, { reportFailure: (i, n) => [i + n] }))().catch(
      (e: Error) => e,
    );
    expect(String(error)).toContain('sink "toy" breaks rule row-failures');
    expect(String(error)).toContain('reported failed row index 14 for a batch of 12 rows');
  });
});

describe('keyed-upsert', () => {
  it('passes on the keyed memory sink', () => assertKeyedUpsert({ ...base, ...keyedSink() }));
  it.fails('fails on an append sink that declares keyed', () =>
    mustBreak('keyed-upsert', () => assertKeyedUpsert({ ...base, ...appendSink() })));
});

describe('effectively-once', () => {
  it('passes on the memory sink with atomic commits', () =>
    assertEffectivelyOnce({
      ...base,
      ...destination((storage) => memorySink({ storage, effectivelyOnce: true })),
    }));
  it.fails('fails on a sink that forgets its commit tokens', () =>
    mustBreak('effectively-once', () =>
      assertEffectivelyOnce({ ...base, ...destination((s) => toySink(s, { forgetTokens: true })) }),
    ));
  it.fails('fails on a sink without writeIdempotent that declares effectivelyOnce', () =>
    mustBreak('effectively-once', () => assertEffectivelyOnce({ ...base, ...appendSink() })));
});

describe('cancellation', () => {
  it('passes on the memory sink', () => assertSinkCancellation({ ...base, ...appendSink() }));
  it.fails('fails on a sink whose flush() resolves before the rows are durable', () =>
    mustBreak('cancellation', () =>
      assertSinkCancellation({ ...base, ...destination((s) => toySink(s, { persistEveryFlush: 5 })) }),
    ));
});

describe('typed-errors (unreachable server)', () => {
  const check = (fail: () => Error) => () =>
    assertSinkUnreachable({ name: 'toy', ...closedPort, create: () => downSink(fail), timeoutMs: 500 });
  it('passes on a sink that throws a ConnectionError naming host:port', check(refused));
  it.fails('fails on a sink that throws the raw client error', () =>
    mustBreak('typed-errors', check(rawRefusal)));
  it.fails('fails on a sink whose error contains the password', () =>
    mustBreak('typed-errors', check(leakyRefusal)));
  it.fails('fails on a sink whose error does not name the server', () =>
    mustBreak('typed-errors', check(namelessRefusal)));
  it.fails('fails on a sink that accepts writes to an unreachable server', () =>
    mustBreak('typed-errors', () =>
      assertSinkUnreachable({ name: 'toy', ...closedPort, create: () => memorySink(), timeoutMs: 500 }),
    ));
});
