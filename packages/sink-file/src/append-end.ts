/**
 * What the sink does with the end of a file it is about to append to: cut a torn end (see
 * torn-end.ts) back to the last complete record, with a warning naming the file and the byte
 * counts. A torn end is what a run killed in the middle of a write leaves; a write that fails while
 * the process lives (a full disk) is cut back by the sink at once.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Logger } from '@faucet/core';
import { type FlushMark, markHolds } from './flush-mark.js';
import { csvCompleteEnd, gzipCompleteEnd, jsonlCompleteEnd } from './torn-end.js';

export interface EndOptions {
  format: 'jsonl' | 'csv' | 'parquet';
  gzip: boolean;
  delimiter: string;
  /** The flush mark left by an earlier run, if any. */
  mark: FlushMark | undefined;
  /** fsync after cutting. */
  fsync: boolean;
  /** The file as named in the config, for the warning. */
  file: string;
  logger: Logger;
}

/** Where the complete records end, or undefined when that cannot be told (no valid mark). */
async function completeEnd(file: FileHandle, now: { size: number; ino: number }, options: EndOptions) {
  // Parquet is written in overwrite mode only: its staging file is emptied, never appended to.
  if (options.format === 'parquet') return undefined;
  if (!options.gzip && options.format === 'jsonl') return jsonlCompleteEnd(file, now.size);
  const { mark } = options;
  if (mark === undefined || !(await markHolds(mark, file, now))) return undefined;
  if (mark.size === now.size) return now.size;
  if (options.gzip) return gzipCompleteEnd(file, mark.size, now.size);
  return csvCompleteEnd(file, mark.size, now.size, options.delimiter);
}

/** Cut a torn end off `file`; returns its size afterwards. */
export async function cutTornEnd(
  file: FileHandle,
  now: { size: number; ino: number },
  options: EndOptions,
): Promise<number> {
  const end = await completeEnd(file, now, options);
  if (end === undefined || end >= now.size) return now.size;
  await file.truncate(end);
  if (options.fsync) await file.datasync();
  options.logger.warn(
    'cut a torn record off the end of the file: a run was stopped in the middle of a write; ' +
      'those bytes were never flushed, so no checkpoint covers them',
    {
      file: options.file,
      size_before: now.size,
      size_after: end,
      bytes_removed: now.size - end,
      ...(options.mark ? { flushed_size: options.mark.size } : {}),
    },
  );
  return end;
}
