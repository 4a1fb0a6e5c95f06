/**
 * The file source's bookmark: per file, how far it was read; plus the incremental cursor.
 *
 *   { "files": { "data/a.csv": { "offset": 5120, "size": 9000, "mtime_ms": 1763700000000.5,
 *                                "ino": 1234, "line": 41, "fp": "9f2c…", "done": false },
 *                "data/b.parquet": { "offset": 0, "line": 0, "row": 150000, … } },
 *     "cursor": "2024-05-01T00:00:00Z", "pending_max": "2024-05-02T10:00:00Z" }
 */
import type { Stats } from 'node:fs';
import { ConfigError, type JsonObject, type JsonValue } from '@faucet/core';

export interface FileProgress {
  /** Byte offset (of the decompressed stream for gzip files) after the last record read. */
  offset: number;
  /** File size when it was read: reading stops there, appended bytes wait for the next run. */
  size: number;
  mtime_ms: number;
  /** Inode, when the file system has them (0 otherwise): a new inode is a replaced file. */
  ino?: number;
  /** Lines before `offset`, so error messages keep true line numbers after a resume. */
  line: number;
  /** Hash of the first 256 and the last 64 bytes before `size`: detects a rewritten file. */
  fp: string;
  /** The file was read to `size`. */
  done: boolean;
  /** Parquet: rows read (offset and line stay 0); a resumed read skips whole row groups by the footer. */
  row?: number;
}

export interface FileBookmark {
  files: Record<string, FileProgress>;
  /** Incremental: records must have a cursor greater than this. */
  cursor?: JsonValue;
  /** Incremental, mid-run: the greatest cursor seen so far; becomes `cursor` when the run ends. */
  pending_max?: JsonValue;
}

function invalid(detail: string): ConfigError {
  return new ConfigError(
    `the stored bookmark is not one of the file source (${detail}); it was written by another source ` +
      'or another version: delete the state to start over',
    { context: 'cannot resume the file source' },
  );
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

export function parseBookmark(value: JsonValue | undefined): FileBookmark {
  if (value === undefined || value === null) return { files: {} };
  if (!isObject(value) || !isObject(value.files)) throw invalid('no "files" object');
  const files: Record<string, FileProgress> = {};
  for (const [path, entry] of Object.entries(value.files)) {
    if (!isObject(entry) || !num(entry.offset) || !num(entry.size) || typeof entry.fp !== 'string') {
      throw invalid(`bad entry for ${JSON.stringify(path)}`);
    }
    files[path] = {
      offset: entry.offset,
      size: entry.size,
      mtime_ms: num(entry.mtime_ms) ? entry.mtime_ms : 0,
      ...(num(entry.ino) && entry.ino > 0 ? { ino: entry.ino } : {}),
      line: num(entry.line) ? entry.line : 0,
      fp: entry.fp,
      done: entry.done === true,
      ...(num(entry.row) && entry.row > 0 ? { row: entry.row } : {}),
    };
  }
  const bookmark: FileBookmark = { files };
  if (value.cursor !== undefined && value.cursor !== null) bookmark.cursor = value.cursor;
  if (value.pending_max !== undefined && value.pending_max !== null) bookmark.pending_max = value.pending_max;
  return bookmark;
}

export type ResumePlan =
  | { action: 'skip' }
  | { action: 'read'; from: number; line: number; row: number }
  | { action: 'reread'; reason: string };

/**
 * What to do with a file given its earlier progress and its state now. `fingerprintNow(size)` hashes
 * the current file as `fingerprint` did; it is only called when size, inode and mtime leave a doubt.
 */
export async function planFile(
  previous: FileProgress | undefined,
  now: Stats,
  fingerprintNow: (size: number) => Promise<string>,
): Promise<ResumePlan> {
  if (previous === undefined) return { action: 'read', from: 0, line: 0, row: 0 };
  if (previous.ino !== undefined && now.ino > 0 && now.ino !== previous.ino) {
    return { action: 'reread', reason: 'it was replaced (another inode)' };
  }
  if (now.size < previous.size) {
    return { action: 'reread', reason: `it shrank from ${previous.size} to ${now.size} bytes` };
  }
  const untouched = now.size === previous.size && now.mtimeMs === previous.mtime_ms;
  if (!untouched && (await fingerprintNow(previous.size)) !== previous.fp) {
    return { action: 'reread', reason: 'the bytes already read changed (it was rewritten)' };
  }
  if (previous.done && now.size === previous.size) return { action: 'skip' };
  return { action: 'read', from: previous.offset, line: previous.line, row: previous.row ?? 0 };
}
