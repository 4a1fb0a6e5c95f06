import { appendFile, writeFile } from 'node:fs/promises';
import { createFileStateStore, type FaucetRecord, runPipeline, type Sink } from '@faucet/core';
import { describe, expect, it } from 'vitest';
import { csvRows, fileSource, ids, jsonlRows, range, useTempDir } from './helpers.js';

useTempDir();

/** A sink that keeps flushed rows (what survives a crash) and can fail one write. */
function durableSink(store: FaucetRecord[], failAtWrite?: number): Sink {
  let pending: FaucetRecord[] = [];
  let writes = 0;
  return {
    async write(records) {
      writes++;
      if (writes === failAtWrite) throw new Error(`injected failure at write ${writes}`);
      pending.push(...records);
    },
    async flush() {
      store.push(...pending);
      pending = [];
    },
  };
}

describe('file source through runPipeline with a file state store', () => {
  it('crashes at every page in turn and resumes: nothing lost, duplicates at most one page', async () => {
    await writeFile('a.csv', csvRows(1, 95));
    await writeFile('b.jsonl', jsonlRows(96, 160));
    const total = range(1, 160);
    for (const failAt of [1, 2, 7, 10, 16]) {
      const state = createFileStateStore({ path: `state-${failAt}` });
      const delivered: FaucetRecord[] = [];
      const options = { state, pipeline: 'files', batchSize: 10, retry: false as const };
      const failed = await runPipeline({
        ...options,
        source: fileSource({ path: '*.{csv,jsonl}' }),
        sink: durableSink(delivered, failAt),
      });
      expect(failed.status).toBe('failed');
      const resumed = await runPipeline({
        ...options,
        source: fileSource({ path: '*.{csv,jsonl}' }),
        sink: durableSink(delivered),
      });
      expect(resumed.status).toBe('ok');
      const seen = ids(delivered);
      expect(new Set(seen)).toEqual(new Set(total));
      expect(seen.length - total.length).toBeLessThanOrEqual(10);
    }
  });

  it('a later run with the same state reads only rows appended since', async () => {
    await writeFile('events.jsonl', jsonlRows(1, 42));
    const state = createFileStateStore({ path: 'state' });
    const delivered: FaucetRecord[] = [];
    const run = () =>
      runPipeline({
        source: fileSource({ path: 'events.jsonl' }),
        sink: durableSink(delivered),
        state,
        pipeline: 'events',
        batchSize: 10,
      });
    expect((await run()).recordsWritten).toBe(42);
    await appendFile('events.jsonl', jsonlRows(43, 50));
    expect((await run()).recordsWritten).toBe(8);
    expect((await run()).recordsWritten).toBe(0);
    expect(ids(delivered)).toEqual(range(1, 50));
  });
});
