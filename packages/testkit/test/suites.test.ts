/**
 * The one-call vitest suites, run for real on the good doubles; and the plan behind them, which
 * turns every undeclared capability into a skipped test with the reason in its title.
 */
import { defineSource, type FaucetRecord, secret } from '@faucet/core';
import {
  memorySink,
  memorySinkStorage,
  memorySource,
  planSinkSuite,
  planSourceSuite,
  planStateStoreSuite,
  testSink,
  testSource,
  testStateStore,
} from '@faucet/testkit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toyStore } from './broken.js';

const memorySourceDescriptor = defineSource({
  id: 'memory',
  configSchema: z.strictObject({
    count: z.number().int().min(1),
    token: secret(z.string().min(3)).optional(),
  }),
  create: (config) => memorySource({ count: config.count }),
});

let served = 0;
testSource({
  name: 'memory',
  descriptor: memorySourceDescriptor,
  config: { valid: { count: 10 }, invalid: { value: { count: 'ten' }, path: 'count' } },
  // Records are built one page at a time; counting them is the streaming probe.
  create: ({ records }) =>
    memorySource({
      count: records.length,
      record: (i) => {
        served++;
        return structuredClone(records[i] as FaucetRecord);
      },
    }),
  capabilities: {
    bookmarks: 'every-page',
    streaming: { served: () => served },
    secrets: { config: { count: 5, token: 'memory-token' }, secretValue: 'memory-token' },
  },
});

const storage = memorySinkStorage();
testSink({
  name: 'memory',
  create: () =>
    memorySink({
      storage,
      mode: 'keyed',
      effectivelyOnce: true,
      rejectRow: (r) => (r.bad ? 'bad' : undefined),
    }),
  reset: () => {
    storage.rows.length = 0;
    storage.tokens.clear();
    storage.positions.clear();
  },
  capabilities: {
    read: () => storage.rows,
    keyed: true,
    effectivelyOnce: true,
    rowFailures: { badRecord: { id: -1, bad: true } },
  },
});

testStateStore({ name: 'toy', create: () => toyStore() });

describe('suite plans', () => {
  it('skip every undeclared capability with the reason in the title', () => {
    const { checks } = planSourceSuite({
      name: 'bare',
      create: ({ records }) => memorySource({ records }),
      capabilities: { bookmarks: false, streaming: false },
    });
    const skipped = checks.filter((c) => c.skip !== undefined).map((c) => c.title);
    expect(skipped).toEqual([
      'config-schema: the config schema is valid JSON Schema and rejects a wrong config with `path: ' +
        'message` ' +
        '(skipped: no descriptor and config examples were given (descriptor, config))',
      'streaming: the source streams: it yields its first page before it has read everything ' +
        '(skipped: the connector declares streaming: false)',
      'bookmark-round-trip: resuming from a bookmark yields strictly the remaining records, none missing ' +
        '(skipped: the connector declares bookmarks: false)',
      'typed-errors: errors are FaucetErrors with a code; an unreachable server is named by host and port, ' +
        'never the password ' +
        '(skipped: no unreachable source was given (capabilities.unreachable))',
      'secrets: a secret config value never appears in errors, logs or DLQ envelopes ' +
        '(skipped: the connector declares no secret config (capabilities.secrets))',
    ]);
    // What is not skipped still runs, whatever is declared.
    expect(checks.filter((c) => c.skip === undefined).map((c) => c.rule)).toEqual([
      'bounded-pages',
      'crash-resume',
      'cancellation',
    ]);
  });

  it('list the sink and state store rules, skipping only what is undeclared', () => {
    const sink = planSinkSuite({
      name: 'bare',
      create: () => memorySink(),
      reset: () => {},
      capabilities: { read: () => [] },
    });
    expect(sink.checks.map((c) => [c.rule, c.skip !== undefined])).toEqual([
      ['config-schema', true],
      ['delivery', false],
      ['crash-resume', false],
      ['row-failures', true],
      ['keyed-upsert', true],
      ['effectively-once', true],
      ['cancellation', false],
      ['typed-errors', true],
      ['secrets', true],
    ]);
    const store = planStateStoreSuite({
      name: 'bare',
      create: () => toyStore(),
      capabilities: { lock: false },
    });
    expect(store.checks.filter((c) => c.skip).map((c) => c.title)).toContain(
      'state-lock: lock excludes a second holder, names the key, and is released (skipped: the store ' +
        'declares lock: false)',
    );
  });

  it('refuse a dataset too small for four pages', () => {
    const { checks } = planSourceSuite({
      name: 'tiny',
      create: ({ records }) => memorySource({ records }),
      dataset: { count: 10 },
      batchSize: 5,
      capabilities: { bookmarks: 'every-page', streaming: false },
    });
    return expect(checks.find((c) => c.rule === 'bounded-pages')?.run()).rejects.toThrow(/at least 4 pages/);
  });
});
