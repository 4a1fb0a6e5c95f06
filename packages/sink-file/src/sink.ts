/**
 * The file sink. Records are encoded as they come and held in memory up to `buffer_bytes`, then
 * written through one file handle; `flush()` writes what is held and fsyncs, so a flushed row
 * survives a crash. gzip output is a series of complete gzip members (one per buffer written), so
 * the file stays readable after a crash and appending adds members.
 *
 * Modes:
 * - append (default): open with O_APPEND. A CSV header is written only into an empty file; a
 *   non-empty CSV file's header row decides the columns. Only bytes no checkpoint can cover are ever
 *   cut: after a failed write or flush (a full disk), the file goes back to its size at the last
 *   flush; on opening, a torn record a killed run left at the end is cut (append-end.ts).
 * - overwrite: rows go to a staging file beside the target (`.<name>.faucet-partial`) and `close()`
 *   renames it over the target, so the old file stays whole until a run ends well. Each run starts
 *   a fresh staging file: a run in overwrite mode reads everything (a durable state store is refused,
 *   see `fileSinkUseIssues`), so rows an unfinished run staged would be written twice.
 *
 * Parquet (overwrite only: a Parquet file ends with the footer that indexes its row groups, so it
 * cannot be appended to): each row group goes to the staging file as soon as it is encoded, and
 * `close()` of a good run writes the footer before the rename. Memory holds one row group.
 */
import { createReadStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import {
  ErrorCodes,
  type FaucetRecord,
  isFaucetError,
  type Logger,
  type Sink,
  SinkError,
  silentLogger,
  type WriteResult,
} from '@faucet/core';
import {
  type CsvEncoder,
  createCsvEncoder,
  createParquetEncoder,
  decompressed,
  readCsvHeader,
  resolveCompression,
} from '@faucet/formats';
import { type FileSinkConfig, formatFromExtension } from './config.js';
import { flushMarkPath } from './flush-mark.js';
import { createHeldBytes } from './held-bytes.js';
import { errorCode, fsyncDirectory, type OpenFile, OutputFile } from './output-file.js';

export interface FileSinkOptions {
  logger?: Logger;
  /** Opens the output (default: fs.promises.open); tests inject a handle whose writes fail. */
  openFile?: OpenFile;
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

export function createFileSink(config: FileSinkConfig, options: FileSinkOptions = {}): FileSink {
  const logger = options.logger ?? silentLogger;
  const target = resolve(config.path);
  const format = config.format ?? formatFromExtension(config.path) ?? 'jsonl';
  const gzip = resolveCompression(config.path, config.compression) === 'gzip';
  const overwrite = config.mode === 'overwrite';
  const writingTo = overwrite ? stagingPath(target) : target;

  let output: OutputFile | undefined;
  let opening: Promise<OutputFile> | undefined;
  let encoder: CsvEncoder | undefined;
  const parquet =
    format === 'parquet'
      ? createParquetEncoder({
          name: config.path,
          rowGroupSize: config.parquet_row_group_rows,
          rowGroupBytes: config.parquet_row_group_bytes,
          onUnknownField: config.on_unknown_field,
        })
      : undefined;
  const {
    buffer: held,
    settled,
    writeHeld,
    encodeAndWrite,
  } = createHeldBytes({
    format,
    gzip,
    bufferBytes: config.buffer_bytes,
  });
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

  const openOutput = async (): Promise<OutputFile> => {
    const file = await OutputFile.open({
      path: writingTo,
      name: config.path,
      staging: overwrite,
      format,
      gzip,
      delimiter: config.delimiter,
      fsync: config.fsync,
      // Appending CSV or gzip, a flush mark lets the next run find a torn end (see flush-mark.ts).
      markPath: !overwrite && (gzip || format === 'csv') ? flushMarkPath(target) : undefined,
      logger,
      ...(options.openFile ? { openFile: options.openFile } : {}),
    });
    if (format === 'csv') {
      const columns = file.size > 0 && config.header ? await existingColumns(writingTo) : undefined;
      encoder = createCsvEncoder({
        delimiter: config.delimiter,
        header: config.header && file.size === 0,
        onUnknownField: config.on_unknown_field,
        name: config.path,
        ...(columns ? { columns } : {}),
      });
    }
    if (!parquet && !gzip && !file.endsWithLineBreak) {
      // A complete last record without a line break (a file written by hand): start on a new line
      // rather than glue the first record to it.
      logger.warn('the file does not end with a line break; starting on a new line', { file: writingTo });
      held.appendText('\n');
    }
    return file;
  };

  const ensureOpen = (): Promise<OutputFile> => {
    if (output) return Promise.resolve(output);
    opening ??= openOutput().then((file) => {
      output = file;
      return file;
    });
    return opening;
  };

  /** After a failed write or sync nothing more is written: no checkpoint may pass the lost rows. */
  const refuseAfterLoss = (what: string): void => {
    const lost = output?.lost;
    if (lost === undefined) return;
    throw new SinkError(
      `cannot ${what} ${JSON.stringify(config.path)}: an earlier write failed (${errorCode(lost)}), ` +
        'so rows written since the last flush are not in the file',
      { code: ErrorCodes.SINK_FLUSH_FAILED, connector: 'file', cause: lost },
    );
  };

  const flush = async (): Promise<void> => {
    refuseAfterLoss('flush');
    if (!output && !opening && held.size === 0) return;
    try {
      const file = await ensureOpen();
      await writeHeld(file);
      await file.sync();
    } catch (error) {
      fail('flush', error, ErrorCodes.SINK_FLUSH_FAILED);
    }
  };

  /** Parquet: rows that do not fit the columns fail alone; complete row groups go to the file. */
  const writeParquet = async (file: OutputFile, records: FaucetRecord[]): Promise<WriteResult> => {
    const rows = parquet as NonNullable<typeof parquet>;
    const failed = rows.encode(records);
    const bytes = rows.take();
    if (bytes.length > 0) await file.append(bytes);
    return failed.length > 0 ? { failed } : {};
  };

  const write = async (records: FaucetRecord[]): Promise<WriteResult | undefined> => {
    if (closed) throw new SinkError(`the file sink for ${JSON.stringify(config.path)} is closed`);
    refuseAfterLoss('write to');
    if (records.length === 0) return;
    try {
      const file = await ensureOpen();
      if (parquet) return await writeParquet(file, records);
      await settled();
      await encodeAndWrite(file, records, encoder);
    } catch (error) {
      fail('write to', error, ErrorCodes.SINK_WRITE_FAILED);
    }
    return undefined;
  };

  const close = async (outcome: CloseOutcome = {}): Promise<void> => {
    if (closed) return;
    closed = true;
    const ok = outcome.status === undefined || outcome.status === 'ok';
    const commit = overwrite && !failed && ok;
    try {
      if (commit) {
        const file = await ensureOpen(); // a run without rows still replaces the target (with an empty file)
        if (parquet && file.lost === undefined) {
          await file
            .append(parquet.finish())
            .catch((error: unknown) => fail('finish', error, ErrorCodes.SINK_FLUSH_FAILED));
        }
      }
      // After a loss there is nothing left to flush: the rows held were dropped with the failed write.
      if (output?.lost === undefined) await flush();
    } finally {
      await output?.close();
      output = undefined;
    }
    if (!commit) return;
    try {
      await rename(writingTo, target);
      if (config.fsync) await fsyncDirectory(dirname(target));
    } catch (error) {
      fail('replace', error, ErrorCodes.SINK_FLUSH_FAILED);
    }
  };

  return { writingTo, appends: !overwrite, write, flush, close };
}
