import { randomBytes } from 'node:crypto';
import process from 'node:process';
import {
  type FaucetRecord,
  type JsonValue,
  type Page,
  runPipeline,
  type Sink,
  type Source,
} from '@faucet/core';
import { createRedisStateStore } from '@faucet/state-redis';
import { afterAll, expect, it } from 'vitest';
import { describeWithRedis, dropNamespace } from './redis-env.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Five pages of one record, 300 ms apart, each a checkpoint `{i}`; resumes after the bookmark. */
function slowSource(): Source {
  return {
    async *read(ctx): AsyncIterable<Page> {
      const after = (ctx.bookmark as { i?: number } | undefined)?.i ?? -1;
      for (let i = after + 1; i < 5; i++) {
        await sleep(300);
        yield { records: [{ id: i }], bookmark: { i } };
      }
    },
  };
}

function collectingSink(): Sink & { rows: FaucetRecord[] } {
  const rows: FaucetRecord[] = [];
  return {
    rows,
    async write(records) {
      rows.push(...records);
    },
  };
}

describeWithRedis('runPipeline on the redis state store', (url) => {
  const namespace = `engine-${randomBytes(4).toString('hex')}`;
  // Two store instances, as two processes would have.
  const first = createRedisStateStore({ connection_url: url, namespace });
  const second = createRedisStateStore({ connection_url: url, namespace });

  afterAll(async () => {
    await Promise.all([first.close(), second.close()]);
    await dropNamespace(url, namespace);
  });

  it('runs one of two runs started at once on one key; the other fails fast with STATE_LOCKED', async () => {
    const sinks = [collectingSink(), collectingSink()];
    const options = { pipeline: 'twice', row: 'row-0', retry: false as const, lockTtlMs: 5_000 };
    const results = await Promise.all([
      runPipeline({ ...options, source: slowSource(), sink: sinks[0] as Sink, state: first }),
      runPipeline({ ...options, source: slowSource(), sink: sinks[1] as Sink, state: second }),
    ]);
    const ok = results.filter((r) => r.status === 'ok');
    const failed = results.filter((r) => r.status === 'failed');
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    const loser = failed[0];
    const winner = ok[0];
    expect(loser?.error?.code).toBe('STATE_LOCKED');
    expect(loser?.error?.message).toContain('"twice::row-0" is locked by another run');
    expect(loser?.error?.message).toContain(`pid ${process.pid} on `);
    expect(loser?.recordsRead).toBe(0);
    // Fast: refused well before the winner finished (5 pages of 300 ms).
    expect(loser?.durationMs).toBeLessThan(1_000);
    expect(winner?.durationMs).toBeGreaterThanOrEqual(1_400);
    const rows = sinks.map((s) => s.rows.length).sort();
    expect(rows).toEqual([0, 5]);

    const stored = (await first.get('twice::row-0')) as { [k: string]: JsonValue };
    expect(stored.bookmark).toEqual({ i: 4 });

    // The winner released its lock: a later run takes it and resumes after the stored bookmark.
    const later = collectingSink();
    const again = await runPipeline({ ...options, source: slowSource(), sink: later, state: second });
    expect(again.status).toBe('ok');
    expect(later.rows).toEqual([]);
  });
});
