/**
 * The file the sink writes to, through one handle: opening it ready to append (a torn end cut, a
 * staging file emptied), appending whole buffers, syncing at a flush, and cutting the file back to
 * its size at the last flush when a write or sync fails. It knows bytes, not records.
 *
 * Only bytes that no checkpoint can cover are ever cut. The engine stores a checkpoint only after
 * `flush()` returned, so everything past the size at the last flush is unacknowledged: after a
 * failed write (a full disk) those bytes may end in a torn record, and they go; on opening, a torn
 * record left by a run that was killed in the middle of a write goes (append-end.ts).
 */
import { type FileHandle, mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '@faucet/core';
import { cutTornEnd } from './append-end.js';
import { createFlushMarkWriter, type FlushMarkWriter, readFlushMark, TAIL_BYTES } from './flush-mark.js';

export type OpenFile = (path: string, flags: 'a+') => Promise<FileHandle>;

export interface OutputSettings {
  /** The file written: the target, or the staging file in overwrite mode. */
  path: string;
  /** The path as the config names it, for messages. */
  name: string;
  /** Overwrite mode: the file is a staging file and starts empty. */
  staging: boolean;
  format: 'jsonl' | 'csv' | 'parquet';
  gzip: boolean;
  delimiter: string;
  fsync: boolean;
  /** Where the flush mark goes (appending CSV or gzip), or undefined for none. */
  markPath: string | undefined;
  logger: Logger;
  openFile?: OpenFile;
}

export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

export async function fsyncDirectory(dir: string): Promise<void> {
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

/** The last bytes written, up to TAIL_BYTES: what a flush mark records. */
function lastBytes(previous: Buffer, data: Buffer): Buffer {
  if (data.length >= TAIL_BYTES) return Buffer.from(data.subarray(data.length - TAIL_BYTES));
  const both = Buffer.concat([previous, data]);
  return both.subarray(Math.max(0, both.length - TAIL_BYTES));
}

export class OutputFile {
  /** File size after the last complete write. */
  private written = 0;
  /** File size after the last sync. */
  private flushed = 0;
  /** The last bytes written, and those at the last sync. */
  private tail: Buffer = Buffer.alloc(0);
  private flushedTail: Buffer = Buffer.alloc(0);
  private ino = 0;
  /** The file was created by this instance: fsync its directory once. */
  private created = false;
  private mark: FlushMarkWriter | undefined;
  /** Set once a write or sync failed: the rows since the last flush are not in the file. */
  lost: Error | undefined;

  private constructor(
    private readonly handle: FileHandle,
    private readonly settings: OutputSettings,
  ) {}

  /** Open the file ready to append. */
  static async open(settings: OutputSettings): Promise<OutputFile> {
    await mkdir(dirname(settings.path), { recursive: true });
    const existed = await exists(settings.path);
    // a+: O_APPEND for writes, and reads to look at how the file ends.
    const handle = await (settings.openFile ?? open)(settings.path, 'a+');
    const output = new OutputFile(handle, settings);
    output.created = !existed;
    try {
      await output.prepareEnd();
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
    return output;
  }

  /** Bytes in the file. */
  get size(): number {
    return this.written;
  }

  /** The file's last byte is a line feed (or the file is empty). */
  get endsWithLineBreak(): boolean {
    return this.written === 0 || this.tail[this.tail.length - 1] === 10;
  }

  private async prepareEnd(): Promise<void> {
    const { settings, handle } = this;
    const now = await handle.stat();
    this.ino = now.ino;
    let size = now.size;
    if (size > 0 && settings.staging) {
      settings.logger.warn(
        'discarding the staging file of an earlier run that did not finish; this run starts over',
        {
          file: settings.path,
          bytes: size,
        },
      );
      await handle.truncate(0);
      size = 0;
    } else if (size > 0) {
      const mark = settings.markPath ? await readFlushMark(settings.markPath) : undefined;
      size = await cutTornEnd(handle, { size, ino: this.ino }, { ...settings, file: settings.name, mark });
    }
    this.written = size;
    this.flushed = size;
    this.tail = Buffer.alloc(Math.min(TAIL_BYTES, size));
    await handle.read(this.tail, 0, this.tail.length, size - this.tail.length);
    this.flushedTail = this.tail;
    if (settings.markPath) {
      const markPath = settings.markPath;
      this.mark = createFlushMarkWriter(markPath, (error) =>
        settings.logger.warn('cannot write the flush mark; a torn end left by a crash will not be found', {
          file: markPath,
          error: errorCode(error),
        }),
      );
      await this.mark.write({ size, ino: this.ino, tail: this.tail });
    }
  }

  /** Append `data` whole. A failure cuts the file back (see `cutBack`) and is rethrown. */
  async append(data: Buffer): Promise<void> {
    try {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await this.handle.write(data, done, data.length - done);
        done += bytesWritten;
      }
    } catch (error) {
      await this.cutBack(error);
      throw error;
    }
    this.written += data.length;
    this.tail = lastBytes(this.tail, data);
  }

  /** Make what was appended durable (with `fsync`), then record the flushed size in the mark. */
  async sync(): Promise<void> {
    if (this.settings.fsync) {
      try {
        await this.handle.datasync();
      } catch (error) {
        await this.cutBack(error);
        throw error;
      }
      if (this.created) {
        await fsyncDirectory(dirname(this.settings.path));
        this.created = false;
      }
    }
    this.flushed = this.written;
    this.flushedTail = this.tail;
    await this.mark?.write({ size: this.flushed, ino: this.ino, tail: this.tail });
  }

  /**
   * After a failed write or sync, the rows appended since the last flush may be partly in the file
   * (a torn record) and partly lost: cut the file back to its size at the last flush, and remember
   * the loss so the sink refuses to flush from now on (no checkpoint may pass those rows).
   */
  private async cutBack(error: unknown): Promise<void> {
    this.lost = error instanceof Error ? error : new Error(String(error));
    const { logger, name } = this.settings;
    try {
      const { size } = await this.handle.stat();
      if (size > this.flushed) {
        await this.handle.truncate(this.flushed);
        logger.warn('a write failed: cut the file back to its size at the last flush', {
          file: name,
          size_before: size,
          size_after: this.flushed,
          bytes_removed: size - this.flushed,
        });
      }
      this.written = this.flushed;
      this.tail = this.flushedTail;
    } catch (cutError) {
      logger.warn('a write failed and the file could not be cut back to its size at the last flush', {
        file: name,
        error: errorCode(cutError),
        hint: 'the next run cuts a torn end when it opens the file',
      });
    }
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => {});
    await this.mark?.close();
  }
}
