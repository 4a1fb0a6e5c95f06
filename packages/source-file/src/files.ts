/**
 * Which files a `path` means, in which order, and how to tell a file that grew from one that was
 * replaced: a glob (or a plain path) is expanded and sorted; each file gets a fingerprint of its
 * first and last bytes up to a size, which appending never changes and rewriting almost always does.
 */
import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, SourceError } from '@faucet/core';
import { glob, isDynamicPattern } from 'tinyglobby';

export interface MatchedFile {
  /** As the user would write it: relative to the working directory unless the pattern is absolute. */
  path: string;
  /** Absolute path, for opening. */
  absolute: string;
}

/** Leading bytes the fingerprint covers (a CSV header lives there). */
const HEAD_BYTES = 256;
/** Bytes before the size the fingerprint covers (the last record read). */
const TAIL_BYTES = 64;

function ioError(what: string, path: string, error: unknown): SourceError {
  const code = (error as { code?: unknown }).code;
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  return new SourceError(`cannot ${what} ${JSON.stringify(path)}: ${reason}`, {
    connector: 'file',
    cause: error,
    retryable: code === 'EMFILE' || code === 'EAGAIN' || code === 'EBUSY',
  });
}

/**
 * The files `pattern` names, sorted by path (UTF-16 code units, so `day-09` < `day-10`). A pattern that
 * is an existing file is taken literally, even if it contains glob characters.
 */
export async function matchFiles(pattern: string): Promise<MatchedFile[]> {
  const literal = await stat(pattern).catch(() => undefined);
  if (literal?.isDirectory()) {
    throw new ConfigError([
      {
        path: 'path',
        message:
          `${JSON.stringify(pattern)} is a directory; ` +
          `use a glob such as ${JSON.stringify(`${pattern.replace(/\/$/, '')}/*.csv`)}`,
      },
    ]);
  }
  if (literal?.isFile()) return [{ path: pattern, absolute: resolve(pattern) }];
  if (!isDynamicPattern(pattern)) return [];
  let found: string[];
  try {
    found = await glob([pattern], {
      onlyFiles: true,
      absolute: isAbsolute(pattern),
      expandDirectories: false,
      dot: false,
    });
  } catch (error) {
    throw ioError('list', pattern, error);
  }
  return found.sort().map((path) => ({ path, absolute: resolve(path) }));
}

export function noFilesError(pattern: string): SourceError {
  return new SourceError(
    `no file matches ${JSON.stringify(pattern)} (relative paths are resolved against ${process.cwd()}); ` +
      'check the path, or set allow_empty: true if an empty match is expected',
    { connector: 'file' },
  );
}

export async function statFile(file: MatchedFile): Promise<Stats> {
  try {
    return await stat(file.absolute);
  } catch (error) {
    throw ioError('stat', file.path, error);
  }
}

/**
 * A short hash of the first HEAD_BYTES and the TAIL_BYTES before `size` of the file as it is now:
 * equal to the one taken when `size` bytes had been read, unless those bytes changed.
 */
export async function fingerprint(file: MatchedFile, size: number): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file.absolute, constants.O_RDONLY);
    const headLength = Math.min(HEAD_BYTES, size);
    const tailStart = Math.max(headLength, size - TAIL_BYTES);
    const buf = Buffer.alloc(headLength + (size - tailStart));
    let filled = (await handle.read(buf, 0, headLength, 0)).bytesRead;
    if (size > tailStart)
      filled += (await handle.read(buf, headLength, size - tailStart, tailStart)).bytesRead;
    return createHash('sha1').update(buf.subarray(0, filled)).update(String(size)).digest('hex').slice(0, 16);
  } catch (error) {
    throw ioError('read', file.path, error);
  } finally {
    await handle?.close().catch(() => {});
  }
}
