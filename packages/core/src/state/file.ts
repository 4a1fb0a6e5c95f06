/**
 * The `file` state store: one JSON file per key in a directory. A put writes a temp file, fsyncs
 * it, renames it over the value and fsyncs the directory, so a crash at any moment leaves the old or
 * the new value, complete. Locks are `<name>.lock` files (see file-lock.ts).
 */
import type { Dirent } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { type CreateEnv, defineStateStore, formatIssuePath } from '../define.js';
import { ConfigError, errorMessage, isFaucetError, StateError } from '../errors.js';
import type { JsonValue, ReleaseLock, StateStore } from '../types.js';
import { assertLockTtl, encodeStateValue } from './common.js';
import { acquireFileLock } from './file-lock.js';
import { ensureDirectory, errnoCode, fsyncDirectory, randomSuffix } from './fs-durable.js';
import { assertStateKey, stateKeyProblem } from './keys.js';
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

const VALUE_SUFFIX = '.json';
/**
 * A temp file younger than this may belong to a put still running in another process (e.g. a
 * `faucet state set` next to a run), so it is left alone; older ones are debris of a crashed put.
 */
const TEMP_FILE_GRACE_MS = 60_000;

/** Windows refuses `:` in file names. Keys cannot contain `%`, so the name maps back to the key. */
function valueFileName(key: string): string {
  return key.replaceAll(':', '%3A') + VALUE_SUFFIX;
}

function keyOfValueFile(name: string): string | undefined {
  if (!name.endsWith(VALUE_SUFFIX)) return undefined;
  const key = name.slice(0, -VALUE_SUFFIX.length).replaceAll('%3A', ':');
  // Skip anything faucet would not have written under this name (a stray `notes%3a.json`).
  if (stateKeyProblem(key) !== undefined || valueFileName(key) !== name) return undefined;
  return key;
}

function isTempFileOf(valueName: string, entry: string): boolean {
  if (!entry.startsWith(`${valueName}.`) || !entry.endsWith('.tmp')) return false;
  return /^[0-9a-f]{16}$/.test(entry.slice(valueName.length + 1, -'.tmp'.length));
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

  /** Puts and deletes of one key run one after another, so the last call wins. */
  const writes = createKeyedWriteQueue();
  const sweptKeys = new Set<string>();
  const heldLocks = new Set<ReleaseLock>();

  const redact = (text: string): string => env.redactor?.redact(text) ?? text;

  const failure = (op: string, key: string | undefined, error: unknown): Error => {
    if (isFaucetError(error)) return error;
    const what = key === undefined ? op : `${op} of "${key}"`;
    return new StateError(
      redact(`file state store: ${what} failed in directory ${dir}: ${errorMessage(error)}`),
      { cause: env.redactor?.redactError(error) ?? error },
    );
  };

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

  const writeValue = async (key: string, text: string): Promise<void> => {
    await ensureDirectory(dir, durable);
    const name = valueFileName(key);
    if (!sweptKeys.has(key)) {
      sweptKeys.add(key);
      await removeStaleTempFiles(name).catch(() => undefined);
    }
    const temp = join(dir, `${name}.${randomSuffix()}.tmp`);
    let handle: FileHandle | undefined;
    try {
      handle = await open(temp, 'wx');
      await handle.writeFile(text, 'utf8');
      // Without this, a crash just after the rename can leave the value's name on an empty file.
      if (durable) await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(temp, join(dir, name));
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
    // The rename is on disk only once the directory is; before that a crash may bring back the old value.
    if (durable) await fsyncDirectory(dir);
  };

  return {
    durable: true,

    async get(key) {
      assertStateKey(key);
      const path = join(dir, valueFileName(key));
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return undefined;
        throw failure('get', key, error);
      }
      try {
        return JSON.parse(text) as JsonValue;
      } catch (error) {
        // Never read as "no bookmark": that would silently restart the pipeline from the beginning.
        const why = durable
          ? 'faucet replaces state files atomically, so it was changed by hand or by another tool'
          : 'with fsync off, a power loss can leave it like this; or it was changed by hand';
        throw new StateError(
          redact(
            `state file ${path} (key "${key}") is not valid JSON (${errorMessage(error)}); ${why}: ` +
              'restore it, or delete it to start this key over',
          ),
          { cause: error },
        );
      }
    },

    async put(key, value) {
      assertStateKey(key);
      const text = `${encodeStateValue(key, value, { indent: 2 })}\n`;
      return writes.run(key, async () => {
        try {
          await writeValue(key, text);
        } catch (error) {
          throw failure('put', key, error);
        }
      });
    },

    async delete(key) {
      assertStateKey(key);
      return writes.run(key, async () => {
        try {
          await unlink(join(dir, valueFileName(key)));
        } catch (error) {
          if (errnoCode(error) === 'ENOENT') return;
          throw failure('delete', key, error);
        }
        try {
          // Otherwise a power loss could bring the deleted value back.
          if (durable) await fsyncDirectory(dir);
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
      const keys: string[] = [];
      for (const entry of entries) {
        if (!entry.isFile()) continue;
        const key = keyOfValueFile(entry.name);
        if (key?.startsWith(prefix)) keys.push(key);
      }
      return keys.sort();
    },

    async lock(key, ttlMs) {
      assertStateKey(key);
      assertLockTtl(ttlMs);
      let release: ReleaseLock;
      try {
        await ensureDirectory(dir, durable);
        release = await acquireFileLock({ lockPath: join(dir, `${valueFileName(key)}.lock`), key, ttlMs });
      } catch (error) {
        throw failure('lock', key, error);
      }
      const tracked: ReleaseLock = async () => {
        heldLocks.delete(tracked);
        try {
          await release();
        } catch (error) {
          throw failure('unlock', key, error);
        }
      };
      heldLocks.add(tracked);
      return tracked;
    },

    /** Waits for writes in flight, then releases locks this store still holds. */
    async close() {
      await writes.settled();
      await Promise.allSettled([...heldLocks].map((release) => release()));
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
