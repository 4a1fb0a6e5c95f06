/**
 * Slices: a source splits its work into ordered pieces (time windows, partitions, prefixes) and
 * checkpoints at the end of each, so a resumed run starts at the first unfinished slice, or inside
 * the slice it was reading when that slice checkpoints on its own.
 *
 * Bookmark shape (stored as the source's bookmark):
 *   { "slices": { "completed": "<id of the last finished slice>" | null } }
 *   { "slices": { "completed": <as above>, "current": "<id>", "inner": <the slice's own bookmark> } }
 */
import { CancelledError, ConfigError, ErrorCodes, FaucetError } from '../errors.js';
import type { FaucetRecord, JsonValue, Page } from '../types.js';
import { isoInstantToMs, parseIsoInstant } from './timestamps.js';

export interface SlicesBookmark {
  slices: {
    /** The last slice read to its end, null when none has been. */
    completed: string | null;
    /** The slice being read when the checkpoint was taken, with its own bookmark. */
    current?: string;
    inner?: JsonValue;
  };
}

export interface TimeWindow {
  /** The window's start, as ISO-8601. */
  id: string;
  /** Inclusive, ISO-8601. */
  start: string;
  /** Exclusive, ISO-8601. */
  end: string;
}

/** More windows than this is almost certainly a wrong `window_ms` (1 ms windows over a year). */
export const MAX_TIME_WINDOWS = 100_000;

function toMs(value: Date | string, path: string): number {
  let ms = Number.NaN;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'string') {
    const instant = parseIsoInstant(value.trim());
    if (instant) ms = isoInstantToMs(instant);
  }
  if (!Number.isFinite(ms)) {
    throw new ConfigError([
      {
        path,
        message: `expected an ISO-8601 date or timestamp such as "2024-01-01T00:00:00Z", got ${value}`,
      },
    ]);
  }
  return ms;
}

/**
 * Consecutive windows of `windowMs` from `start` up to `end` (default: now), the last one clipped to
 * `end`. Window boundaries depend only on `start` and `windowMs`, so ids stay the same when `end`
 * moves. Empty when `end` is not after `start`. Offset-less timestamps are UTC.
 */
export function timeWindows(options: {
  start: Date | string;
  end?: Date | string;
  windowMs: number;
}): TimeWindow[] {
  const start = toMs(options.start, 'start');
  const end = options.end === undefined ? Date.now() : toMs(options.end, 'end');
  const { windowMs } = options;
  if (!Number.isSafeInteger(windowMs) || windowMs < 1) {
    throw new ConfigError([
      { path: 'window_ms', message: `expected a whole number of at least 1, got ${windowMs}` },
    ]);
  }
  if (end <= start) return [];
  const total = Math.ceil((end - start) / windowMs);
  if (total > MAX_TIME_WINDOWS) {
    throw new ConfigError([
      {
        path: 'window_ms',
        message:
          `${total} windows from ${new Date(start).toISOString()} to ${new Date(end).toISOString()}; ` +
          `at most ${MAX_TIME_WINDOWS} are allowed, use larger windows`,
      },
    ]);
  }
  const windows: TimeWindow[] = [];
  for (let from = start; from < end; from += windowMs) {
    const id = new Date(from).toISOString();
    windows.push({ id, start: id, end: new Date(Math.min(from + windowMs, end)).toISOString() });
  }
  return windows;
}

/**
 * True for a window shorter than `windowMs`: the last one, clipped to `end`. When `end` moves (the
 * default, now) it grows on the next run, so it must not be recorded as completed: pass
 * `isPartial: (w) => isPartialWindow(w, windowMs)` to readSlices.
 */
export function isPartialWindow(window: TimeWindow, windowMs: number): boolean {
  return Date.parse(window.end) - Date.parse(window.start) < windowMs;
}

/** A page as a slice reader yields it; its bookmark is the slice's own (say, a page token). */
export interface SlicePage {
  records: FaucetRecord[];
  bookmark?: JsonValue;
}

export interface SliceContext {
  signal: AbortSignal;
  /** The slice's own bookmark to resume from (same as the third argument), or undefined. */
  bookmark: JsonValue | undefined;
}

export interface ReadSlicesOptions<S> {
  /** In order; the same list (ids and order) on every run, new slices only at the end. */
  slices: Iterable<S> | AsyncIterable<S>;
  /** A unique, stable id per slice. */
  sliceId: (slice: S) => string;
  /** The stored bookmark (a SlicesBookmark), undefined on a first run. */
  bookmark: JsonValue | undefined;
  /** Read one slice; on resume inside it, `bookmark` is the inner bookmark it last emitted. */
  readSlice: (slice: S, ctx: SliceContext, bookmark: JsonValue | undefined) => AsyncIterable<SlicePage>;
  signal?: AbortSignal;
  /**
   * A slice that may still grow after this run (the last time window, clipped to now). Reading it
   * to its end does not mark it completed, and its inner bookmarks are dropped, so the next run
   * reads it again in full. Only the last slice may be partial.
   */
  isPartial?: (slice: S) => boolean;
}

function slicesChanged(message: string): ConfigError {
  return new ConfigError(
    `${message}; the slice list changed since the bookmark was stored ` +
      '(slices must keep their ids and order, new ones go at the end). Delete the state to start over',
    { context: 'cannot resume slices' },
  );
}

function parseSlicesBookmark(bookmark: JsonValue | undefined): SlicesBookmark['slices'] | undefined {
  if (bookmark === undefined || bookmark === null) return undefined;
  const slices =
    typeof bookmark === 'object' && !Array.isArray(bookmark) && Object.hasOwn(bookmark, 'slices')
      ? bookmark.slices
      : undefined;
  const valid =
    typeof slices === 'object' &&
    slices !== null &&
    !Array.isArray(slices) &&
    (slices.completed === null || typeof slices.completed === 'string') &&
    (slices.current === undefined || typeof slices.current === 'string');
  if (!valid) {
    throw new ConfigError(
      'the stored bookmark is not a slices bookmark ({"slices": {"completed": ...}}); the source changed: ' +
        'delete its state to start over',
      { context: 'cannot resume slices' },
    );
  }
  const { completed, current, inner } = slices as {
    completed: string | null;
    current?: string;
    inner?: JsonValue;
  };
  return current === undefined
    ? { completed }
    : { completed, current, ...(inner === undefined ? {} : { inner }) };
}

/**
 * Read slices in order, yielding their pages. The last page of each slice carries
 * `{slices: {completed: <id>}}` (an empty page when the slice yielded none); a page with its own
 * bookmark carries `{slices: {completed: <previous>, current: <id>, inner: <its bookmark>}}`. On
 * resume, slices up to and including `completed` are skipped and `inner` is handed to `current`.
 * Throws ConfigError when the stored ids are not in `slices` (the list changed).
 */
export function readSlices<S>(options: ReadSlicesOptions<S>): AsyncGenerator<Page, void, undefined> {
  const resume = parseSlicesBookmark(options.bookmark);
  return sliceGenerator(options, resume);
}

async function* sliceGenerator<S>(
  options: ReadSlicesOptions<S>,
  resume: SlicesBookmark['slices'] | undefined,
): AsyncGenerator<Page, void, undefined> {
  const signal = options.signal ?? new AbortController().signal;
  let skipUntil = resume?.completed ?? null;
  let resumeInside = resume?.current;
  let completed = resume?.completed ?? null;
  let partial: string | undefined;
  const seen = new Set<string>();
  for await (const slice of options.slices) {
    const id = options.sliceId(slice);
    if (typeof id !== 'string' || id === '') {
      throw new FaucetError(`sliceId returned ${JSON.stringify(id)}; slice ids must be non-empty strings`);
    }
    if (seen.has(id)) throw new ConfigError(`slice id "${id}" appears twice; slice ids must be unique`);
    seen.add(id);
    if (skipUntil !== null) {
      if (id === skipUntil) skipUntil = null;
      continue;
    }
    let inner: JsonValue | undefined;
    if (resumeInside !== undefined) {
      if (id !== resumeInside) {
        throw slicesChanged(
          `the bookmark resumes inside slice "${resumeInside}" but the next slice is "${id}"`,
        );
      }
      inner = resume?.inner;
      resumeInside = undefined;
    }
    if (partial !== undefined) {
      throw new FaucetError(
        `slice "${partial}" is partial but slice "${id}" follows it; only the last slice may be`,
        {
          code: ErrorCodes.INTERNAL,
        },
      );
    }
    if (signal.aborted) throw new CancelledError(undefined, { cause: signal.reason });
    const isPartial = options.isPartial?.(slice) ?? false;
    yield* readOneSlice(options, slice, id, inner, isPartial, completed, signal);
    if (isPartial) partial = id;
    else completed = id;
  }
  if (skipUntil !== null) throw slicesChanged(`the completed slice "${skipUntil}" is not among the slices`);
  if (resumeInside !== undefined) {
    throw slicesChanged(`the bookmark resumes inside slice "${resumeInside}", which is not among the slices`);
  }
}

async function* readOneSlice<S>(
  options: ReadSlicesOptions<S>,
  slice: S,
  id: string,
  inner: JsonValue | undefined,
  isPartial: boolean,
  completedBefore: string | null,
  signal: AbortSignal,
): AsyncGenerator<Page, void, undefined> {
  const wrap = (held: SlicePage): Page =>
    held.bookmark === undefined || isPartial
      ? { records: held.records }
      : {
          records: held.records,
          bookmark: { slices: { completed: completedBefore, current: id, inner: held.bookmark } },
        };
  // One page is held back: the slice's last page is only known when the next one does not come.
  let held: SlicePage | undefined;
  for await (const next of options.readSlice(slice, { signal, bookmark: inner }, inner)) {
    if (held) yield wrap(held);
    held = next;
  }
  yield {
    records: held?.records ?? [],
    bookmark: { slices: { completed: isPartial ? completedBefore : id } },
  };
}
