/**
 * Where the file state store keeps a key, and how a value file is replaced: a temp file written and
 * fsynced, renamed over the value, the directory fsynced, so a crash at any moment leaves the old or
 * the new value, complete.
 */
import type { FileHandle } from 'node:fs/promises';
import { open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDirectory, errnoCode, fsyncDirectory, randomSuffix } from './fs-durable.js';
import type { JournalPaths } from './journal.js';
import { stateKeyProblem } from './keys.js';

const VALUE_SUFFIX = '.json';
const JOURNAL_SUFFIX = '.journal';
/**
 * A temp file younger than this may belong to a put still running in another process (e.g. a
 * `faucet state set` next to a run), so it is left alone; older ones are debris of a crashed put.
 */
const TEMP_FILE_GRACE_MS = 60_000;

/** Windows refuses `:` in file names. Keys cannot contain `%`, so the name maps back to the key. */
export function valueFileName(key: string): string {
  return key.replaceAll(':', '%3A') + VALUE_SUFFIX;
}

/** The key of a value file or a journal this store would have written, or undefined. */
export function keyOfStateFile(name: string): string | undefined {
  const valueName = name.endsWith(VALUE_SUFFIX + JOURNAL_SUFFIX)
    ? name.slice(0, -JOURNAL_SUFFIX.length)
    : name;
  if (!valueName.endsWith(VALUE_SUFFIX)) return undefined;
  const key = valueName.slice(0, -VALUE_SUFFIX.length).replaceAll('%3A', ':');
  // Skip anything faucet would not have written under this name (a stray `notes%3a.json`).
  if (stateKeyProblem(key) !== undefined || valueFileName(key) !== valueName) return undefined;
  return key;
}

function isTempFileOf(valueName: string, entry: string): boolean {
  if (!entry.startsWith(`${valueName}.`) || !entry.endsWith('.tmp')) return false;
  return /^[0-9a-f]{16}$/.test(entry.slice(valueName.length + 1, -'.tmp'.length));
}

export interface ValueFiles {
  valuePath(key: string): string;
  journal(key: string): JournalPaths;
  /** Create the directory, and (once per key) remove temp files a crashed put left. */
  prepare(key: string): Promise<void>;
  /** Replace the key's value file with `text`, atomically. */
  write(key: string, text: string): Promise<void>;
  /** Remove a file; false when there was none. */
  remove(path: string): Promise<boolean>;
}

export function createValueFiles(dir: string, durable: boolean): ValueFiles {
  const sweptKeys = new Set<string>();
  const tempPath = (key: string) => join(dir, `${valueFileName(key)}.${randomSuffix()}.tmp`);

  const removeStaleTempFiles = async (valueName: string): Promise<void> => {
    const entries = await readdir(dir);
    const now = Date.now();
    for (const entry of entries) {
      if (!isTempFileOf(valueName, entry)) continue;
      const path = join(dir, entry);
      const info = await stat(path).catch(() => undefined);
      if (info && now - info.mtimeMs > TEMP_FILE_GRACE_MS) await rm(path, { force: true });
    }
  };

  const prepare = async (key: string): Promise<void> => {
    await ensureDirectory(dir, durable);
    if (sweptKeys.has(key)) return;
    sweptKeys.add(key);
    await removeStaleTempFiles(valueFileName(key)).catch(() => undefined);
  };

  return {
    valuePath: (key) => join(dir, valueFileName(key)),
    journal: (key) => ({
      dir,
      path: join(dir, valueFileName(key) + JOURNAL_SUFFIX),
      tempPath: () => tempPath(key),
    }),
    prepare,
    async write(key, text) {
      await prepare(key);
      const temp = tempPath(key);
      let handle: FileHandle | undefined;
      try {
        handle = await open(temp, 'wx');
        await handle.writeFile(text, 'utf8');
        // Without this, a crash just after the rename can leave the value's name on an empty file.
        if (durable) await handle.sync();
        await handle.close();
        handle = undefined;
        await rename(temp, join(dir, valueFileName(key)));
      } catch (error) {
        await handle?.close().catch(() => undefined);
        await rm(temp, { force: true }).catch(() => undefined);
        throw error;
      }
      // The rename is on disk only once the directory is; before that a crash may bring back the old value.
      if (durable) await fsyncDirectory(dir);
    },
    async remove(path) {
      try {
        await unlink(path);
        return true;
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return false;
        throw error;
      }
    },
  };
}
