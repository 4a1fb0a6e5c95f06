/**
 * The flush mark: a small file beside a CSV or gzip output, `.<name>.faucet-flushed`, saying how
 * long the output was after the sink's last flush (and when it opened the file), its inode, and its
 * last bytes there. The next run uses it to find where a torn end starts: the size it records is
 * the end of a complete record (or gzip member), written by this sink, so the complete records
 * after it can be found by reading forward from there (CSV cannot be read backwards: a line break
 * may sit inside quotes; gzip members can only be walked from a member start).
 *
 * It is rewritten in place (one 256-byte write at offset 0) and never fsynced: a mark older than
 * the last flush (after a power loss) still names the end of a complete record, so it only costs a
 * longer read; the sink never cuts a complete record on its word. A mark whose inode, size or last
 * bytes do not match the file (the file was replaced, truncated or rewritten) is ignored.
 */
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface FlushMark {
  /** Bytes of the output at the last flush. */
  size: number;
  /** The output's inode (0 where the file system has none). */
  ino: number;
  /** Up to the last 32 bytes before `size`. */
  tail: Buffer;
}

const MARK_BYTES = 256;
export const TAIL_BYTES = 32;

/** `.<name>.faucet-flushed` beside `target` (hidden, so globs such as `out/*.csv` do not see it). */
export function flushMarkPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.faucet-flushed`);
}

const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export async function readFlushMark(path: string): Promise<FlushMark | undefined> {
  try {
    const value = JSON.parse((await readFile(path, 'utf8')).trim()) as Record<string, unknown>;
    if (value.v !== 1 || !count(value.size) || !count(value.ino) || typeof value.tail !== 'string')
      return undefined;
    const tail = Buffer.from(value.tail, 'base64');
    if (tail.length > Math.min(TAIL_BYTES, value.size)) return undefined;
    return { size: value.size, ino: value.ino, tail };
  } catch {
    return undefined; // missing, torn or foreign: as if there were none
  }
}

/** True when `mark` describes `file` as it is now: same inode, at least as long, same bytes before the mark. */
export async function markHolds(
  mark: FlushMark,
  file: FileHandle,
  now: { size: number; ino: number },
): Promise<boolean> {
  if (mark.size > now.size) return false;
  if (mark.ino !== 0 && now.ino !== 0 && mark.ino !== now.ino) return false;
  const bytes = Buffer.alloc(mark.tail.length);
  const { bytesRead } = await file.read(bytes, 0, bytes.length, mark.size - bytes.length);
  return bytesRead === bytes.length && bytes.equals(mark.tail);
}

/** Rewrites the mark in place; a failure is reported to `onError` once and otherwise ignored. */
export function createFlushMarkWriter(path: string, onError: (error: unknown) => void) {
  let handle: FileHandle | undefined;
  let failed = false;
  return {
    async write(mark: FlushMark): Promise<void> {
      if (failed) return;
      try {
        handle ??= await open(path, 'r+').catch(() => open(path, 'w'));
        const text = JSON.stringify({
          v: 1,
          size: mark.size,
          ino: mark.ino,
          tail: mark.tail.toString('base64'),
        });
        const data = Buffer.alloc(MARK_BYTES, 0x20);
        data.write(text, 0, 'utf8');
        data[MARK_BYTES - 1] = 0x0a;
        await handle.write(data, 0, MARK_BYTES, 0);
      } catch (error) {
        failed = true;
        onError(error);
      }
    },
    async close(): Promise<void> {
      await handle?.close().catch(() => {});
      handle = undefined;
    },
  };
}

export type FlushMarkWriter = ReturnType<typeof createFlushMarkWriter>;
