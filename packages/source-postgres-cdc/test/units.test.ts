import { ConfigError, configJsonSchema, validateConfig } from '@faucet/core';
import postgresCdcSource, { createPostgresCdcSource, formatLsn, parseLsn } from '@faucet/source-postgres-cdc';
import { describe, expect, it } from 'vitest';
import { PageChannel } from '../src/channel.js';
import { durationMs } from '../src/config.js';
import { commitTimestamp } from '../src/records.js';
import { slotProblem } from '../src/slot-rules.js';

const base = { connection_url: 'postgres://u:p@127.0.0.1:5432/db', slot_name: 's', publication_name: 'p' };

describe('LSNs', () => {
  it('parse and format like pg_lsn, ordered as numbers', () => {
    expect(formatLsn(parseLsn('0/16B3748'))).toBe('0/16B3748');
    expect(formatLsn(parseLsn('00000001/0000000A'))).toBe('1/A');
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
    expect(formatLsn(parseLsn('0/FFFFFFFF') + 1n)).toBe('1/0');
    expect(() => parseLsn('16B3748')).toThrow(/not a PostgreSQL LSN/);
  });
});

describe('config', () => {
  it('keeps durations as written, so validating twice (CLI, then factory) cannot change them', async () => {
    const once = await validateConfig(postgresCdcSource, {
      ...base,
      idle_timeout: '3s',
      heartbeat_interval: 2,
    });
    const twice = await validateConfig(postgresCdcSource, once);
    expect(twice).toEqual(once);
    expect(durationMs(twice.idle_timeout)).toBe(3000);
    expect(durationMs(twice.heartbeat_interval)).toBe(2000);
    expect(durationMs('250ms')).toBe(250);
    expect(durationMs('5m')).toBe(300_000);
  });

  it('documents defaults in the JSON Schema and marks the URL secret', () => {
    const schema = configJsonSchema(postgresCdcSource) as {
      properties: Record<string, Record<string, unknown>>;
    };
    expect(schema.properties.idle_timeout?.default).toBe('30s');
    expect(schema.properties.connection_url?.['x-faucet-secret']).toBe(true);
  });

  it('names every problem with its path', () => {
    let error: unknown;
    try {
      createPostgresCdcSource({
        ...base,
        slot_name: 'Bad-Name',
        idle_timeout: 'soon',
        slot_type: 'temporary',
        snapshot: 'initial',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('slot_name: lower-case letters');
    expect(message).toContain('idle_timeout: expected a duration');
    expect(message).toContain('snapshot: a temporary slot cannot be combined with snapshot: initial');
    expect(message).not.toContain('u:p@');
  });
});

describe('records', () => {
  it('commit timestamps keep microseconds', () => {
    expect(commitTimestamp(1_700_000_000_123_456n)).toBe('2023-11-14T22:13:20.123456Z');
    expect(commitTimestamp(null)).toBeNull();
  });
});

describe('PageChannel', () => {
  it('makes the producer wait while the staged records exceed the capacity', async () => {
    const channel = new PageChannel(10);
    const signal = new AbortController().signal;
    await channel.push({ records: Array.from({ length: 10 }, (_, i) => ({ i })) });
    let pushed = false;
    const second = channel.push({ records: [{ i: 10 }] }).then(() => {
      pushed = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(pushed).toBe(false);
    expect(channel.size).toBe(10);
    const first = await channel.take(100, signal);
    expect(first !== 'timeout' && first !== 'aborted' && first.records.length).toBe(10);
    await second;
    expect(pushed).toBe(true);
    expect(await channel.take(100, signal)).toMatchObject({ records: [{ i: 10 }] });
    expect(await channel.take(10, signal)).toBe('timeout');
  });

  it('joins whole transactions waiting back to back into one page, never a partial one', async () => {
    const channel = new PageChannel(100, 5);
    const signal = new AbortController().signal;
    await channel.push({ records: [{ i: 1 }, { i: 2 }], bookmark: 'a' });
    await channel.push({ records: [{ i: 3 }], bookmark: 'b' });
    await channel.push({ records: [{ i: 4 }, { i: 5 }, { i: 6 }] }); // part of a transaction: its own page
    await channel.push({ records: [{ i: 7 }], bookmark: 'c' });
    await channel.push({ records: [{ i: 8 }, { i: 9 }, { i: 10 }, { i: 11 }, { i: 12 }], bookmark: 'd' }); // too big to join
    const taken = [];
    for (let n = 0; n < 4; n++) taken.push(await channel.take(10, signal));
    expect(taken).toEqual([
      { records: [{ i: 1 }, { i: 2 }, { i: 3 }], bookmark: 'b' },
      { records: [{ i: 4 }, { i: 5 }, { i: 6 }] },
      { records: [{ i: 7 }], bookmark: 'c' },
      { records: [{ i: 8 }, { i: 9 }, { i: 10 }, { i: 11 }, { i: 12 }], bookmark: 'd' },
    ]);
  });

  it('hands the failure to the consumer after the pages before it, and honours the signal', async () => {
    const channel = new PageChannel(10);
    await channel.push({ records: [{ i: 1 }] });
    channel.fail(new Error('stream broke'));
    const controller = new AbortController();
    expect(await channel.take(10, controller.signal)).toMatchObject({ records: [{ i: 1 }] });
    await expect(channel.take(10, controller.signal)).rejects.toThrow('stream broke');
    const other = new PageChannel(1);
    const waiting = other.take(undefined, controller.signal);
    controller.abort();
    expect(await waiting).toBe('aborted');
  });
});

describe('slot rules', () => {
  const info = {
    plugin: 'pgoutput',
    slotType: 'logical',
    database: 'db',
    active: false,
    activePid: null,
    confirmedFlushLsn: '0/100',
    restartLsn: '0/80',
    walStatus: 'reserved',
    temporary: false,
  };
  const at = (lsn: string) => ({ kind: 'lsn' as const, slot: 's', lsn });

  it('accepts a slot at or behind the stored bookmark, and a first run', () => {
    expect(slotProblem('s', 'permanent', info, at('0/100'))).toBeUndefined();
    expect(slotProblem('s', 'permanent', info, at('0/200'))).toBeUndefined();
    expect(slotProblem('s', 'permanent', undefined, undefined)).toBeUndefined();
  });

  it('refuses a lost slot, telling the user how to re-snapshot', () => {
    const problem = slotProblem('s', 'permanent', { ...info, walStatus: 'lost' }, at('0/100'));
    expect(problem).toMatch(
      /wal_status lost.*changes were missed.*pg_drop_replication_slot\('s'\).*faucet state delete postgres-cdc:s/,
    );
  });

  it('refuses a missing slot behind a bookmark, a slot past the bookmark, and another plugin', () => {
    expect(slotProblem('s', 'permanent', undefined, at('0/100'))).toMatch(
      /does not exist, but the stored bookmark is at 0\/100/,
    );
    expect(slotProblem('s', 'permanent', info, at('0/FF'))).toMatch(
      /confirmed up to 0\/100, past the stored bookmark 0\/FF/,
    );
    expect(slotProblem('s', 'permanent', { ...info, plugin: 'wal2json' }, undefined)).toMatch(
      /uses plugin wal2json/,
    );
  });
});
