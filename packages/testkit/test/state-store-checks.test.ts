/**
 * Every state store check passes on good stores and fails (with its own rule) on a broken one.
 */
import type { JsonValue } from '@faucet/core';
import {
  assertStateAtomicPut,
  assertStateDurable,
  assertStateEngineLock,
  assertStateLock,
  assertStateRoundTrip,
  assertStateStoreUnreachable,
} from '@faucet/testkit';
import { describe, expect, it } from 'vitest';
import { createMemoryStateStore, downStore, rawRefusal, toyStore } from './broken.js';
import { closedPort, mustBreak, refused } from './helpers.js';

const name = 'toy';

describe('state-round-trip', () => {
  it('passes on the core memory store', () => assertStateRoundTrip({ name, create: createMemoryStateStore }));
  it('passes on the toy store', () => assertStateRoundTrip({ name, create: () => toyStore() }));
  it.fails('fails on a store that hands out its own objects', () =>
    mustBreak('state-round-trip', () =>
      assertStateRoundTrip({ name, create: () => toyStore(new Map(), { shareReferences: true }) }),
    ));
  it.fails('fails on a store whose list() ignores the prefix', () =>
    mustBreak('state-round-trip', () =>
      assertStateRoundTrip({
        name,
        create: () => toyStore(new Map([['other::row-0', 1]]), { listIgnoresPrefix: true }),
      }),
    ));
});

describe('state-atomic-put', () => {
  it('passes on the core memory store', () => assertStateAtomicPut({ name, create: createMemoryStateStore }));
  it('passes on the toy store', () => assertStateAtomicPut({ name, create: () => toyStore() }));
  it.fails('fails on a store whose put removes the old value before writing the new one', () =>
    mustBreak('state-atomic-put', () =>
      assertStateAtomicPut({ name, create: () => toyStore(new Map(), { nonAtomicPut: true }) }),
    ));
  it.fails('fails on a store that throws a raw TypeError for a value JSON cannot hold', () =>
    mustBreak('state-atomic-put', () =>
      assertStateAtomicPut({ name, create: () => toyStore(new Map(), { rawErrors: true }) }),
    ));
});

describe('state-lock', () => {
  it('passes on the core memory store', () => assertStateLock({ name, create: createMemoryStateStore }));
  it('passes on the toy store, across two instances over one map', () => {
    const map = new Map<string, JsonValue>();
    const shared = toyStore(map);
    return assertStateLock({ name, create: () => shared, reopen: () => shared });
  });
  it.fails('fails on a lock that does not exclude a second holder', () =>
    mustBreak('state-lock', () =>
      assertStateLock({ name, create: () => toyStore(new Map(), { lock: 'shared' }) }),
    ));
  it.fails('fails on a lock that is never released', () =>
    mustBreak('state-lock', () =>
      assertStateLock({ name, create: () => toyStore(new Map(), { lock: 'sticky' }) }),
    ));
  it.fails('fails on a lock refused with a raw Error', () =>
    mustBreak('state-lock', () =>
      assertStateLock({ name, create: () => toyStore(new Map(), { lock: 'raw' }) }),
    ));
  it.fails('fails on separate instances that do not see each other’s locks', () =>
    mustBreak('state-lock', () =>
      assertStateLock({ name, create: () => toyStore(), reopen: () => toyStore() }),
    ));
  it('names the store and the rule in its message', async () => {
    const error = await assertStateLock({
      name,
      create: () => toyStore(new Map(), { lock: 'shared' }),
    }).catch((e: Error) => e);
    expect(String(error)).toMatch(
      /state store "toy" breaks rule state-lock .*a second lock\(\) on the same store took the lock/,
    );
  });
});

describe('state-durable', () => {
  it('passes on two toy stores over one map', () => {
    const map = new Map<string, JsonValue>();
    return assertStateDurable({ name, create: () => toyStore(map), reopen: () => toyStore(map) });
  });
  it.fails('fails when the second instance starts empty (the store forgets)', () =>
    mustBreak('state-durable', () =>
      assertStateDurable({ name, create: () => toyStore(), reopen: () => toyStore() }),
    ));
});

describe('state-engine-lock', () => {
  it('passes on a toy store whose lock excludes (both runs on one instance)', () => {
    const shared = toyStore();
    return assertStateEngineLock({ name, create: () => shared, reopen: () => shared });
  });
  it.fails('fails on a lock that does not exclude a second holder: both runs run', () =>
    mustBreak('state-engine-lock', () => {
      const shared = toyStore(new Map(), { lock: 'shared' });
      return assertStateEngineLock({
        name,
        create: () => shared,
        reopen: () => shared,
        refusalPatienceMs: 200,
      });
    }));
  it.fails('fails on a lock that waits for the holder instead of refusing: the second run runs after it', () =>
    mustBreak('state-engine-lock', () => {
      const shared = toyStore(new Map(), { lock: 'waits' });
      return assertStateEngineLock({
        name,
        create: () => shared,
        reopen: () => shared,
        refusalPatienceMs: 200,
      });
    }));
  it.fails('fails on separate instances that do not see each other’s locks', () =>
    mustBreak('state-engine-lock', () => {
      const map = new Map<string, JsonValue>();
      return assertStateEngineLock({
        name,
        create: () => toyStore(map),
        reopen: () => toyStore(map),
        refusalPatienceMs: 200,
      });
    }));
});

describe('typed-errors (unreachable server)', () => {
  const check = (fail: () => Error) => () =>
    assertStateStoreUnreachable({ name, ...closedPort, create: () => downStore(fail), timeoutMs: 500 });
  it('passes on a store that throws a ConnectionError naming host:port', check(refused));
  it.fails('fails on a store that throws the raw client error', () =>
    mustBreak('typed-errors', check(rawRefusal)));
});
