/**
 * The file source: the files `path` matches, in sorted order, decoded as they stream in, cut into
 * pages of `batch_size` records, each page a checkpoint. A page ends on a record boundary, so its
 * bookmark holds exact byte offsets; a resumed run seeks there (gzip files are decompressed again
 * and the bytes before the offset skipped). Parquet files are read a row group at a time and their
 * progress is a row count: a resumed run skips whole row groups by the footer. Files that were read to the end are skipped while they
 * stay the same; appended bytes are read on the next run; a file that shrank or was rewritten is
 * read again from the start, with a warning.
 */
import {
  type CursorFilter,
  createCursorFilter,
  createRunningMax,
  type DiscoveredStream,
  type FaucetRecord,
  type JsonObject,
  type JsonValue,
  type Logger,
  type Page,
  type RejectedRecord,
  type RunningMax,
  resolveStartBookmark,
  type Source,
  type SourceContext,
  silentLogger,
} from '@faucet/core';
import type { InvalidRecord } from '@faucet/formats';
import { type FileBookmark, type FileProgress, parseBookmark, planFile } from './bookmark.js';
import type { FileSourceConfig } from './config.js';
import { fingerprint, type MatchedFile, matchFiles, noFilesError, statFile } from './files.js';
import { createFileReader, formatOf, type StartAt } from './read-file.js';
import { inferSchema } from './schema.js';

/**
 * Incremental: the filter keeps what the run that started from `cursor` would keep; the running max
 * is saved as pending until the last page, because files need not be in cursor order.
 */
function incrementalFilter(
  method: FileSourceConfig['replication_method'],
  stored: FileBookmark,
  logger: Logger,
): { keep?: CursorFilter; max?: RunningMax; start?: JsonValue | undefined } {
  if (method.type !== 'Incremental') return {};
  const start = resolveStartBookmark(stored.cursor, method.start_value);
  return {
    start,
    keep: createCursorFilter({ cursorField: method.cursor_field, after: start, logger }),
    max: createRunningMax({ cursorField: method.cursor_field, initial: stored.pending_max ?? start, logger }),
  };
}

/** A line the decoder set aside, as the engine dead-letters it: its raw text and where it was. */
function rejectedRecord(file: string, invalid: InvalidRecord): RejectedRecord {
  return {
    error: invalid.error,
    raw: invalid.raw,
    position: { file, line: invalid.line, offset: invalid.offset },
  };
}

export interface FileSourceOptions {
  logger?: Logger;
  /** Bytes per read from disk (default 64 KiB, the fs stream default; it bounds memory per file). */
  readChunkBytes?: number;
}

export interface FileSourceProgress {
  /** Records decoded so far by this instance (before any cursor filter). */
  records: number;
  /** Files opened so far. */
  files: number;
}

export interface FileSource extends Source {
  /** What this instance has read so far; a diagnostic (tests use it to prove streaming). */
  readonly progress: Readonly<FileSourceProgress>;
}

const DISCOVER_SAMPLE = 100;

export function createFileSource(config: FileSourceConfig, options: FileSourceOptions = {}): FileSource {
  const progress: FileSourceProgress = { records: 0, files: 0 };
  const method = config.replication_method;
  const readFile = createFileReader(config, options.readChunkBytes ?? 64 * 1024, progress);
  async function* read(ctx: SourceContext): AsyncGenerator<Page, void, undefined> {
    const logger = ctx.logger ?? options.logger ?? silentLogger;
    const pageSize = config.batch_size ?? ctx.batchSize;
    const stored = parseBookmark(ctx.bookmark);
    const files = await matchFiles(config.path);
    if (files.length === 0 && !config.allow_empty) throw noFilesError(config.path);
    for (const file of files) formatOf(config, file.path);

    const { keep, max, start } = incrementalFilter(method, stored, logger);

    // Progress of every matched file; files that no longer match are dropped from the bookmark.
    const state: Record<string, FileProgress> = {};
    for (const file of files) {
      const previous = stored.files[file.path];
      if (previous) state[file.path] = previous;
    }
    const bookmark = (final: boolean): JsonValue => {
      const value: FileBookmark = { files: { ...state } };
      if (method.type === 'Incremental') {
        const seen = max?.value;
        if (final) {
          if (seen !== undefined) value.cursor = seen;
          else if (start !== undefined) value.cursor = start;
        } else {
          if (start !== undefined) value.cursor = start;
          if (seen !== undefined) value.pending_max = seen;
        }
      }
      return value as unknown as JsonValue;
    };

    let page: FaucetRecord[] = [];
    // With on_record_error: dlq, lines that could not be decoded, for the page whose bookmark passes them.
    let rejected: RejectedRecord[] = [];
    const pageOf = (final: boolean): Page => {
      const out: Page = { records: page, bookmark: bookmark(final) };
      if (rejected.length > 0) out.rejected = rejected;
      page = [];
      rejected = [];
      return out;
    };
    const skipInvalid = ctx.onRecordError === 'dlq';
    for (const file of files) {
      const format = formatOf(config, file.path);
      const now = await statFile(file);
      const plan = await planFile(state[file.path], now, (size) => fingerprint(file, size));
      if (plan.action === 'skip') continue;
      let start: StartAt = { from: 0, line: 0, row: 0 };
      if (plan.action === 'reread') {
        logger.warn('file changed since it was read; reading it again from the start', {
          file: file.path,
          reason: plan.reason,
        });
      } else {
        start = { from: plan.from, line: plan.line, row: plan.row };
      }
      const size = now.size;
      const fp = await fingerprint(file, size);
      const entry = (offset: number, lines: number, done: boolean, row?: number): FileProgress => ({
        offset,
        size,
        mtime_ms: now.mtimeMs,
        ...(now.ino > 0 ? { ino: now.ino } : {}),
        line: lines,
        fp,
        done,
        ...(row ? { row } : {}),
      });
      state[file.path] = entry(start.from, start.line, false, start.row);
      // Each batch asks for what still fits in the page, so pages end exactly at a batch end.
      const room = () => Math.max(1, pageSize - page.length - rejected.length);
      for await (const batch of readFile(file, format, start, size, room, skipInvalid)) {
        progress.records += batch.records.length;
        let records = batch.records;
        if (keep && max) {
          const kept: FaucetRecord[] = [];
          for (const record of records) {
            if (!keep(record)) continue;
            max.observe(record);
            kept.push(record);
          }
          records = kept;
        }
        if (page.length > 0 && page.length + records.length > pageSize) yield pageOf(false);
        state[file.path] = entry(batch.offset, batch.line, false, batch.row);
        for (const invalid of batch.rejected ?? []) rejected.push(rejectedRecord(file.path, invalid));
        if (page.length === 0) page = records;
        else for (const record of records) page.push(record);
        if (page.length + rejected.length >= pageSize) yield pageOf(false);
        if (ctx.signal.aborted) return;
      }
      const last = state[file.path] as FileProgress;
      state[file.path] = { ...last, done: true };
    }
    // The last page carries the final state: files marked done, vanished files dropped, the cursor.
    yield pageOf(true);
  }

  async function check(): Promise<void> {
    const files = await matchFiles(config.path);
    if (files.length === 0) {
      if (config.allow_empty) return;
      throw noFilesError(config.path);
    }
    for (const file of files) formatOf(config, file.path);
    await fingerprint(files[0] as MatchedFile, 0);
  }

  async function discover(): Promise<DiscoveredStream[]> {
    const files = await matchFiles(config.path);
    const sample: FaucetRecord[] = [];
    for (const file of files) {
      if (sample.length >= DISCOVER_SAMPLE) break;
      const now = await statFile(file);
      const left = () => DISCOVER_SAMPLE - sample.length;
      const batches = readFile(
        file,
        formatOf(config, file.path),
        { from: 0, line: 0, row: 0 },
        now.size,
        left,
      );
      for await (const batch of batches) {
        sample.push(...batch.records.slice(0, DISCOVER_SAMPLE - sample.length));
        if (sample.length >= DISCOVER_SAMPLE) break;
      }
    }
    const stream: DiscoveredStream = { name: config.path, schema: inferSchema(sample) as JsonObject };
    if (method.type === 'Incremental') stream.cursorFields = [method.cursor_field];
    return [stream];
  }

  return {
    read,
    check,
    discover,
    get progress() {
      return progress;
    },
  };
}
