/** The engine on the real file state store: resume across "processes" and locking. */
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileStateStore, runPipeline, type Source } from '../src/index.js';
import { countingSource, duplicateCount, missingIds, newStorage, recordingSink } from './doubles.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faucet-engine-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('engine with the file state store', () => {
  it('a run that fails resumes from the last checkpoint stored on disk', async () => {
    const storage = newStorage();
    const first = await runPipeline({
      pipeline: 'files',
      source: countingSource({ total: 5000, pageSize: 500, failAtPage: 6 }),
      sink: recordingSink(storage),
      state: createFileStateStore({ path: dir }),
      batchSize: 500,
    });
    expect(first.status).toBe('failed');
    expect(first.lastBookmark).toEqual({ offset: 2500 });
    // A new store instance, as a new process would create.
    const second = await runPipeline({
      pipeline: 'files',
      source: countingSource({ total: 5000, pageSize: 500 }),
      sink: recordingSink(storage),
      state: createFileStateStore({ path: dir }),
      batchSize: 500,
    });
    expect(second).toMatchObject({ status: 'ok', recordsRead: 2500, lastBookmark: { offset: 5000 } });
    expect(missingIds(storage.rows, 5000)).toEqual([]);
    expect(duplicateCount(storage.rows)).toBe(0);
  });

  it('a second run on a locked key fails fast naming the key and the holder', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held: Source = {
      async *read() {
        await gate;
        yield { records: [{ id: 1 }], bookmark: { offset: 1 } };
      },
    };
    const first = runPipeline({
      pipeline: 'locked',
      source: held,
      sink: recordingSink(newStorage()),
      state: createFileStateStore({ path: dir }),
    });
    await new Promise((r) => setTimeout(r, 50));
    const secondSource = countingSource({ total: 10 });
    const second = await runPipeline({
      pipeline: 'locked',
      source: secondSource,
      sink: recordingSink(newStorage()),
      state: createFileStateStore({ path: dir }),
    });
    // Fails at the lock, before reading anything.
    expect(secondSource.reads).toBe(0);
    expect(second.status).toBe('failed');
    expect(second.error?.code).toBe('STATE_LOCKED');
    expect(second.error?.message).toContain('state key "locked::row-0" is locked by another run');
    expect(second.error?.message).toContain(`pid ${process.pid}`);
    expect(second.error?.message).toContain(hostname());
    expect(second.recordsRead).toBe(0);
    release();
    expect((await first).status).toBe('ok');
  });
});
