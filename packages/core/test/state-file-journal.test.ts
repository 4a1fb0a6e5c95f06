/**
 * The file state store's journal (puts of a key whose lock the store holds): one value file per key
 * between runs, the journal winning while a run holds the key or was killed holding it, and a
 * record torn by a crash never read.
 */
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileStateStore, lastJournalRecord, StateError } from '../src/index.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'faucet-state-journal-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const JOURNAL = 'p%3A%3Arow-0.json.journal';

describe('file state store journal', () => {
  it('journals puts under a lock and folds the last one into the value file on release', async () => {
    const store = createFileStateStore({ path: root });
    const release = await store.lock?.('p::row-0', 60_000);
    for (let i = 1; i <= 500; i++) await store.put('p::row-0', { offset: i });
    expect(await store.get('p::row-0')).toEqual({ offset: 500 });
    expect(await readdir(root)).toContain(JOURNAL);
    await release?.();
    expect((await readdir(root)).sort()).toEqual(['p%3A%3Arow-0.json']);
    expect(JSON.parse(await readFile(join(root, 'p%3A%3Arow-0.json'), 'utf8'))).toEqual({ offset: 500 });
    expect(await store.list()).toEqual(['p::row-0']);
    await store.close?.();
  });

  it('reads the journal a killed run left, and skips a record the kill tore', async () => {
    const writer = createFileStateStore({ path: root });
    await writer.lock?.('p::row-0', 60_000);
    await writer.put('p::row-0', { offset: 1 });
    await writer.put('p::row-0', { offset: 2 });
    // A kill: the lock is never released, the journal stays. Cut the second record short.
    const bytes = await readFile(join(root, JOURNAL));
    const whole = lastJournalRecord(bytes);
    expect(whole).toEqual({ state: 'value', text: '{"offset":2}' });
    const endOfFirst = bytes.indexOf('{"offset":1}') + '{"offset":1}'.length;
    await truncate(join(root, JOURNAL), endOfFirst + 10);
    const reader = createFileStateStore({ path: root });
    expect(await reader.get('p::row-0')).toEqual({ offset: 1 });
  });

  it('refuses a journal without a complete record rather than reading "no bookmark"', async () => {
    await writeFile(join(root, JOURNAL), 'not a journal');
    const store = createFileStateStore({ path: root });
    await expect(store.get('p::row-0')).rejects.toBeInstanceOf(StateError);
  });

  it('a put without the lock replaces a journal a killed run left', async () => {
    const killed = createFileStateStore({ path: root });
    await killed.lock?.('p::row-0', 60_000);
    await killed.put('p::row-0', { offset: 7 });
    const other = createFileStateStore({ path: root });
    await other.put('p::row-0', { offset: 1 });
    expect(await other.get('p::row-0')).toEqual({ offset: 1 });
    expect(await readdir(root)).not.toContain(JOURNAL);
  });
});
