/**
 * The file sink. Records are encoded as they come and held in memory up to `buffer_bytes`, then
 * written through one file handle; `flush()` writes what is held and fsyncs, so a flushed row
 * survives a crash. gzip output is a series of complete gzip members (one per buffer written), so
 * the file stays readable after a crash and appending adds members.
 *
 * Modes:
 * - append (default): open with O_APPEND; never truncate. A CSV header is written only into an empty
 *   file; a non-empty CSV file's header row decides the columns.
 * - overwrite: rows go to a staging file beside the target (`.<name>.faucet-partial`) and `close()`
 *   renames it over the target, so the old file stays whole until a run ends. A run that does not end
 *   well (a crash, or `close({ status: 'failed' | 'cancelled' })`) leaves the staging file, and the
 *   next run continues it: it resumes from the last checkpoint, and the rows before that checkpoint
 *   are in the staging file, not in the target.
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import {
  ErrorCodes,
  type FaucetRecord,
  isFaucetError,
  type Logger,
  type Sink,
  SinkError,
  silentLogger,
} from '@faucet/core';
import {
  type CsvEncoder,
  createCsvEncoder,
  decompressed,
  encodeJsonlText,
  gzipMember,
  readCsvHeader,
  resolveCompression,
} from '@faucet/formats';
import { type FileSinkConfig, formatFromExtension } from './config.js';

export interface FileSinkOptions {
  logger?: Logger;
}

/** How the run that used the sink ended; the engine's `PipelineResult.status`. */
export interface CloseOutcome {
  status?: 'ok' | 'failed' | 'cancelled';
}

export interface FileSink extends Sink {
  /**
   * Write out, fsync and close the file. In overwrite mode this also replaces the target with the
   * staging file, unless `outcome.status` says the run did not end well ('failed' or 'cancelled').
   */
  close(outcome?: CloseOutcome): Promise<void>;
  /** The file rows go to: the target, or the staging file in overwrite mode. */
  readonly writingTo: string;
}

/** The staging file of `path` in overwrite mode: hidden, beside it (so the rename is atomic). */
export function stagingPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.faucet-partial`);
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

async function fsyncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms and file systems cannot fsync a directory; the rename itself is still atomic.
  } finally {
    await handle?.close().catch(() => {});
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export function createFileSink(config: FileSinkConfig, options: FileSinkOptions = {}): FileSink {
  const logger = options.logger ?? silentLogger;
  const target = resolve(config.path);
  const format = config.format ?? formatFromExtension(config.path) ?? 'jsonl';
  const gzip = resolveCompression(config.path, config.compression) === 'gzip';
  const overwrite = config.mode === 'overwrite';
  const writingTo = overwrite ? stagingPath(target) : target;

  let handle: FileHandle | undefined;
  let opening: Promise<FileHandle> | undefined;
  let encoder: CsvEncoder | undefined;
  let held: string[] = [];
  let heldChars = 0;
  let created = false; // the file was created by this instance: fsync its directory once
  let failed = false;
  let closed = false;

  const fail = (what: string, error: unknown, code: string): never => {
    failed = true;
    if (isFaucetError(error)) throw error;
    throw new SinkError(`cannot ${what} ${JSON.stringify(config.path)}: ${errorCode(error)}`, {
      code,
      connector: 'file',
      cause: error,
    });
  };

  /** The columns of an existing CSV file: its first row. */
  const existingColumns = async (path: string): Promise<string[] | undefined> => {
    const raw = createReadStream(path);
    const header = await readCsvHeader(decompressed(raw, gzip ? 'gzip' : 'none'), {
      delimiter: config.delimiter,
      name: config.path,
    });
    raw.destroy();
    return header?.columns;
  };

  const openFile = async (): Promise<FileHandle> => {
    await mkdir(dirname(writingTo), { recursive: true });
    const existed = await exists(writingTo);
    if (overwrite && existed) {
      logger.warn('continuing the staging file of an earlier run that did not finish', {
        file: writingTo,
        hint: 'delete it to start over',
      });
    }
    // a+: O_APPEND for writes, and reads to check how the file ends.
    const file = await open(writingTo, 'a+');
    created = !existed;
    const { size } = await file.stat();
    if (format === 'csv') {
      const columns = size > 0 && config.header ? await existingColumns(writingTo) : undefined;
      encoder = createCsvEncoder({
        delimiter: config.delimiter,
        header: config.header && size === 0,
        onUnknownField: config.on_unknown_field,
        name: config.path,
        ...(columns ? { columns } : {}),
      });
    }
    if (size > 0 && !gzip) {
      // A file that does not end with a line break (written by hand, or a write torn by a crash):
      // start on a new line rather than glue the first record to its last line.
      const last = Buffer.alloc(1);
      await file.read(last, 0, 1, size - 1);
      if (last[0] !== 10) {
        logger.warn('the file does not end with a line break; starting on a new line', { file: writingTo });
        held.push('\n');
        heldChars += 1;
      }
    }
    return file;
  };

  const ensureOpen = (): Promise<FileHandle> => {
    if (handle) return Promise.resolve(handle);
    opening ??= openFile().then((file) => {
      handle = file;
      return file;
    });
    return opening;
  };

  const writeHeld = async (file: FileHandle): Promise<void> => {
    if (heldChars === 0) return;
    const text = held.length === 1 ? (held[0] as string) : held.join('');
    held = [];
    heldChars = 0;
    const data = gzip ? await gzipMember(text) : Buffer.from(text, 'utf8');
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await file.write(data, done, data.length - done);
      done += bytesWritten;
    }
  };

  const encode = (records: FaucetRecord[]): string => {
    if (format === 'jsonl') return encodeJsonlText(records);
    return (encoder as CsvEncoder).encode(records);
  };

  const flush = async (): Promise<void> => {
    if (!handle && !opening && heldChars === 0) return;
    try {
      const file = await ensureOpen();
      await writeHeld(file);
      if (config.fsync) {
        await file.datasync();
        if (created) {
          await fsyncDirectory(dirname(writingTo));
          created = false;
        }
      }
    } catch (error) {
      fail('flush', error, ErrorCodes.SINK_FLUSH_FAILED);
    }
  };

  return {
    writingTo,
    appends: !overwrite,
    async write(records) {
      if (closed) throw new SinkError(`the file sink for ${JSON.stringify(config.path)} is closed`);
      if (records.length === 0) return;
      try {
        const file = await ensureOpen();
        const text = encode(records);
        held.push(text);
        heldChars += text.length;
        if (heldChars >= config.buffer_bytes) await writeHeld(file);
      } catch (error) {
        fail('write to', error, ErrorCodes.SINK_WRITE_FAILED);
      }
    },
    flush,
    async close(outcome: CloseOutcome = {}) {
      if (closed) return;
      closed = true;
      const commit = overwrite && !failed && (outcome.status === undefined || outcome.status === 'ok');
      try {
        if (commit) await ensureOpen(); // a run without rows still replaces the target (with an empty file)
        await flush();
      } finally {
        await handle?.close().catch(() => {});
        handle = undefined;
      }
      if (!commit) return;
      try {
        await rename(writingTo, target);
        if (config.fsync) await fsyncDirectory(dirname(target));
      } catch (error) {
        fail('replace', error, ErrorCodes.SINK_FLUSH_FAILED);
      }
    },
  };
}
