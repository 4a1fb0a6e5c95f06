/**
 * The `file` state store: one JSON file per key in a directory. A put writes a temp file, fsyncs
 * it, renames it over the value and fsyncs the directory, so a crash at any moment leaves the old or
 * the new value, complete. Locks are `<name>.lock` files (see file-lock.ts).
 *
 * While this store holds a key's lock (a run), the key is its alone, and its puts go to a journal
 * instead (`<name>.journal`, see journal.ts): one in-place write and one fdatasync per put. The
 * journal, when there is one, is the key's value; when the lock is released (or the store closed)
 * its last value is written to `<name>` the usual way and the journal removed, so between runs the
 * directory holds one JSON file per key, as it always has (and as older versions read it). A run
 * killed with its lock leaves its journal, which the next reader reads and the next run replaces
 * with a fresh one on its first put (the compaction on open).
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { type CreateEnv, defineStateStore, formatIssuePath } from '../define.js';
import { ConfigError, errorMessage, isFaucetError, StateError } from '../errors.js';
import type { JsonValue, ReleaseLock, StateStore } from '../types.js';
import { assertLockTtl, encodeStateValue } from './common.js';
import { acquireFileLock } from './file-lock.js';
import { createValueFiles, keyOfStateFile, type ValueFiles } from './file-values.js';
import { errnoCode, fsyncDirectory } from './fs-durable.js';
import { type OpenJournal, readJournal, startJournal } from './journal.js';
import { assertStateKey, coveringKey } from './keys.js';
import { createKeyedWriteQueue } from './write-queue.js';

export const fileStateStoreConfigSchema = z.strictObject({
  path: z.string().min(1).describe('Directory holding one JSON file per state key; created on first use'),
  fsync: z
    .boolean()
    .default(true)
    .describe('fsync each value and its directory; false is faster, but a power loss may lose recent puts'),
});
export type FileStateStoreConfig = z.infer<typeof fileStateStoreConfigSchema>;
/** What `createFileStateStore` accepts: `fsync` may be left out (default true). */
export type FileStateStoreOptions = z.input<typeof fileStateStoreConfigSchema>;

/** The JSON text of a value file (indented, as people read it). */
const valueFileText = (key: string, value: JsonValue): string =>
  `${encodeStateValue(key, value, { indent: 2 })}\n`;

/** A journal open for a key this store holds, and the text of its last value. */
interface KeyJournal {
  journal: OpenJournal;
  last: string;
}

/**
 * The journals of the keys this store's locks cover: opened on a key's first put, folded back into
 * its value file when the lock is released.
 */
function createJournals(files: ValueFiles, durable: boolean) {
  const open = new Map<string, KeyJournal>();

  /** Remove the key's journal file (after its value file was written or removed). */
  const removeJournalFile = async (key: string): Promise<boolean> => files.remove(files.journal(key).path);

  return {
    keys: () => [...open.keys()],
    async append(key: string, text: string): Promise<void> {
      const held = open.get(key);
      if (held) {
        await held.journal.append(text);
        held.last = text;
        return;
      }
      await files.prepare(key);
      open.set(key, { journal: await startJournal(files.journal(key), text, durable), last: text });
    },
    /**
     * Write the key's last value to its value file and remove the journal. When the value file
     * cannot be written the journal stays: it still holds the value, and readers read it.
     */
    async fold(key: string): Promise<void> {
      const held = open.get(key);
      if (!held) return;
      open.delete(key);
      await held.journal.close().catch(() => undefined);
      try {
        await files.write(key, valueFileText(key, JSON.parse(held.last) as JsonValue));
      } catch {
        return;
      }
      if ((await removeJournalFile(key).catch(() => false)) && durable) {
        await fsyncDirectory(files.journal(key).dir).catch(() => undefined);
      }
    },
    /** Forget the key's journal (it is being deleted). */
    async drop(key: string): Promise<void> {
      const held = open.get(key);
      open.delete(key);
      await held?.journal.close().catch(() => undefined);
    },
    removeJournalFile,
  };
}

/**
 * A file state store. Created like every plugin, `createFileStateStore(config, { logger, redactor })`;
 * the environment is optional (the redactor scrubs secrets from its messages).
 */
export function createFileStateStore(
  options: FileStateStoreOptions,
  env: Partial<CreateEnv> = {},
): StateStore {
  const parsed = fileStateStoreConfigSchema.safeParse(options);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message })),
      { context: 'invalid config for state "file"' },
    );
  }
  // Resolved once, so a later chdir cannot move the state somewhere else mid-run.
  const dir = resolve(parsed.data.path);
  const durable = parsed.data.fsync;
  const files = createValueFiles(dir, durable);
  const journals = createJournals(files, durable);

  /** Puts and deletes of one key run one after another, so the last call wins. */
  const writes = createKeyedWriteQueue();
  const heldLocks = new Set<ReleaseLock>();
  /** Keys whose lock this store holds: they, and keys under them, are written through journals. */
  const heldKeys = new Set<string>();

  const redact = (text: string): string => env.redactor?.redact(text) ?? text;

  const failure = (op: string, key: string | undefined, error: unknown): Error => {
    if (isFaucetError(error)) return error;
    const what = key === undefined ? op : `${op} of "${key}"`;
    return new StateError(
      redact(`file state store: ${what} failed in directory ${dir}: ${errorMessage(error)}`),
      { cause: env.redactor?.redactError(error) ?? error },
    );
  };

  /** A value file or journal that does not hold a value: never read as "no bookmark". */
  const corrupt = (path: string, key: string, problem: string, cause?: unknown): StateError => {
    // Reading it as "no bookmark" would silently restart the pipeline from the beginning.
    const why = durable
      ? 'faucet replaces state files atomically, so it was changed by hand or by another tool'
      : 'with fsync off, a power loss can leave it like this; or it was changed by hand';
    return new StateError(
      redact(
        `state file ${path} (key "${key}") ${problem}; ${why}: restore it, or delete it to start this key over`,
      ),
      cause === undefined ? {} : { cause },
    );
  };

  const parseValue = (path: string, key: string, text: string): JsonValue => {
    try {
      return JSON.parse(text) as JsonValue;
    } catch (error) {
      throw corrupt(path, key, `is not valid JSON (${errorMessage(error)})`, error);
    }
  };

  const readValue = async (key: string): Promise<JsonValue | undefined> => {
    const journalPath = files.journal(key).path;
    const fromJournal = await readJournal(journalPath);
    if (fromJournal.state === 'value') return parseValue(journalPath, key, fromJournal.text);
    if (fromJournal.state === 'corrupt')
      throw corrupt(journalPath, key, `is not a valid journal (${fromJournal.reason})`);
    const path = files.valuePath(key);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    return parseValue(path, key, text);
  };

  /** Without the key's lock another process may write it too: replace the value file atomically. */
  const putUnowned = async (key: string, value: JsonValue): Promise<void> => {
    const text = valueFileText(key, value);
    return writes.run(key, async () => {
      try {
        await files.write(key, text);
        // A journal left by a killed run would still win over the value just written.
        if ((await journals.removeJournalFile(key)) && durable) await fsyncDirectory(dir);
      } catch (error) {
        throw failure('put', key, error);
      }
    });
  };

  const foldCovered = async (lockedKey: string): Promise<void> => {
    const covered = journals.keys().filter((key) => coveringKey(heldKeys, key) === lockedKey);
    await Promise.all(covered.map((key) => writes.run(key, () => journals.fold(key))));
  };

  return {
    durable: true,

    async get(key) {
      assertStateKey(key);
      try {
        return await readValue(key);
      } catch (error) {
        throw failure('get', key, error);
      }
    },

    async put(key, value) {
      assertStateKey(key);
      if (coveringKey(heldKeys, key) === undefined) return putUnowned(key, value);
      const text = encodeStateValue(key, value);
      return writes.run(key, async () => {
        try {
          await journals.append(key, text);
        } catch (error) {
          throw failure('put', key, error);
        }
      });
    },

    async delete(key) {
      assertStateKey(key);
      return writes.run(key, async () => {
        try {
          await journals.drop(key);
          // The value file first: while the journal is left it still holds the newest value.
          const removedValue = await files.remove(files.valuePath(key));
          const removedJournal = await journals.removeJournalFile(key);
          // Otherwise a power loss could bring the deleted value back.
          if ((removedValue || removedJournal) && durable) await fsyncDirectory(dir);
        } catch (error) {
          throw failure('delete', key, error);
        }
      });
    },

    async list(prefix = '') {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return [];
        throw failure(prefix ? `list (prefix "${prefix}")` : 'list', undefined, error);
      }
      const keys = new Set<string>();
      for (const entry of entries) {
        if (!entry.isFile()) continue;
        const key = keyOfStateFile(entry.name);
        if (key?.startsWith(prefix)) keys.add(key);
      }
      return [...keys].sort();
    },

    async lock(key, ttlMs) {
      assertStateKey(key);
      assertLockTtl(ttlMs);
      let release: ReleaseLock;
      try {
        await files.prepare(key);
        release = await acquireFileLock({ lockPath: `${files.valuePath(key)}.lock`, key, ttlMs });
      } catch (error) {
        throw failure('lock', key, error);
      }
      heldKeys.add(key);
      let released = false;
      const tracked: ReleaseLock = async () => {
        if (released) return;
        released = true;
        heldLocks.delete(tracked);
        // The journals go back into value files while the lock still keeps other writers out.
        await foldCovered(key);
        heldKeys.delete(key);
        try {
          await release();
        } catch (error) {
          throw failure('unlock', key, error);
        }
      };
      heldLocks.add(tracked);
      return tracked;
    },

    /** Waits for writes in flight, then folds journals and releases locks this store still holds. */
    async close() {
      await writes.settled();
      await Promise.allSettled([...heldLocks].map((release) => release()));
      await Promise.allSettled(journals.keys().map((key) => writes.run(key, () => journals.fold(key))));
    },
  };
}

export const fileStateStore = defineStateStore<FileStateStoreConfig>({
  id: 'file',
  description: 'Keeps state as one JSON file per key in a directory (atomic, crash-safe writes)',
  configSchema: fileStateStoreConfigSchema,
  create(config, env) {
    return createFileStateStore(config, env);
  },
});
