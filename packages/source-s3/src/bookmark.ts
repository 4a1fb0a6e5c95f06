/**
 * The S3 source's bookmark (Open Data Fabric style source state: it says what it is and which
 * listing it belongs to, so a changed bucket, prefix or glob never reuses it):
 *
 *   { "kind": "s3-listing", "v": 1, "source": "s3://bucket/prefix|glob",
 *     "after": { "key": "data/b.csv", "etag": "\"9f…\"", "last_modified": 1767225600000 },
 *     "recent": [["data/a.csv", "\"41…\""], ["data/b.csv", "\"9f…\""]],
 *     "current": { "key": "data/c.csv", "etag": "\"77…\"", "last_modified": 1767225601000,
 *                  "offset": 5120, "line": 41, "row": 40 },
 *     "complete": true }
 *
 * Objects are read in (LastModified, key) order. `after` is the last object read to its end: every
 * object ordered before it was read. S3 keeps LastModified to the second and sets it when an upload
 * STARTS, so an object can appear later with a LastModified at or before `after`; `recent` holds the
 * keys and ETags read with a LastModified within `lookback_seconds` of `after` (at least the same
 * instant), and such an object is read unless `recent` has it with the same ETag. An object
 * rewritten under the same key gets a new ETag and LastModified and is read again. `current` is the
 * object being read: how far (decompressed byte offset and line for text, row for Parquet); a resumed
 * run continues there if the object still has that ETag, and reads it from the start otherwise.
 * `complete` marks the bookmark of a run that reached the end of the listing.
 */
import { ConfigError, type JsonObject, type JsonValue } from '@faucet/core';

export interface ObjectInfo {
  key: string;
  etag: string;
  /** LastModified in epoch milliseconds. */
  lastModified: number;
  size: number;
}

export interface ObjectProgress {
  key: string;
  etag: string;
  last_modified: number;
  /** Text formats: decompressed bytes before the next record, and lines before it. */
  offset: number;
  line: number;
  /** Parquet: rows before the next record. */
  row: number;
}

export interface S3Bookmark {
  kind: 's3-listing';
  v: 1;
  source: string;
  after?: { key: string; etag: string; last_modified: number };
  recent: Array<[string, string]>;
  current?: ObjectProgress;
  complete?: boolean;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const str = (v: unknown): v is string => typeof v === 'string';

function invalid(detail: string): ConfigError {
  return new ConfigError(
    `the stored bookmark is not one of the s3 source (${detail}); it was written by another source ` +
      'or another version: delete the state to start over',
    { context: 'cannot resume the s3 source' },
  );
}

/** The stored bookmark, or undefined for none. Throws for a value that is not an s3 bookmark. */
export function parseBookmark(value: JsonValue | undefined): S3Bookmark | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value) || value.kind !== 's3-listing' || !str(value.source))
    throw invalid('no s3-listing kind');
  const bookmark: S3Bookmark = { kind: 's3-listing', v: 1, source: value.source, recent: [] };
  const after = value.after;
  if (after !== undefined) {
    if (!isObject(after) || !str(after.key) || !str(after.etag) || !num(after.last_modified)) {
      throw invalid('bad "after"');
    }
    bookmark.after = { key: after.key, etag: after.etag, last_modified: after.last_modified };
  }
  if (Array.isArray(value.recent)) {
    for (const entry of value.recent) {
      if (!Array.isArray(entry) || !str(entry[0]) || !str(entry[1])) throw invalid('bad "recent" entry');
      bookmark.recent.push([entry[0], entry[1]]);
    }
  }
  const current = value.current;
  if (current !== undefined) {
    if (!isObject(current) || !str(current.key) || !str(current.etag) || !num(current.last_modified)) {
      throw invalid('bad "current"');
    }
    bookmark.current = {
      key: current.key,
      etag: current.etag,
      last_modified: current.last_modified,
      offset: num(current.offset) ? current.offset : 0,
      line: num(current.line) ? current.line : 0,
      row: num(current.row) ? current.row : 0,
    };
  }
  if (value.complete === true) bookmark.complete = true;
  return bookmark;
}

/** (LastModified, key) order. */
export function compareObjects(
  a: { lastModified: number; key: string },
  b: { lastModified: number; key: string },
): number {
  if (a.lastModified !== b.lastModified) return a.lastModified - b.lastModified;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * The listing position of one run: what was read, and whether an object still has to be. Mutable:
 * `complete(object)` moves it past an object.
 */
export class ListingPosition {
  private after: S3Bookmark['after'];
  /** key -> [etag, lastModified]: objects read within the lookback window of `after`. */
  private readonly recent = new Map<string, [string, number]>();
  current: ObjectProgress | undefined;

  constructor(
    readonly source: string,
    private readonly lookbackMs: number,
    stored: S3Bookmark | undefined,
  ) {
    if (!stored) return;
    this.after = stored.after;
    const at = stored.after?.last_modified ?? 0;
    // Stored entries carry no LastModified: they all lie in the window of `after`.
    for (const [key, etag] of stored.recent) this.recent.set(key, [etag, at]);
    this.current = stored.current;
  }

  /** True when the object still has to be read. */
  pending(object: ObjectInfo): boolean {
    const seen = this.recent.get(object.key);
    if (seen && seen[0] === object.etag) return false;
    const after = this.after;
    if (!after) return true;
    if (compareObjects(object, { lastModified: after.last_modified, key: after.key }) > 0) return true;
    return object.lastModified >= after.last_modified - this.lookbackMs;
  }

  /** The object was read to its end. */
  complete(object: ObjectInfo): void {
    const after = this.after;
    const next = { lastModified: object.lastModified, key: object.key };
    if (!after || compareObjects(next, { lastModified: after.last_modified, key: after.key }) > 0) {
      this.after = { key: object.key, etag: object.etag, last_modified: object.lastModified };
    }
    this.recent.set(object.key, [object.etag, object.lastModified]);
    const floor = (this.after as NonNullable<S3Bookmark['after']>).last_modified - this.lookbackMs;
    for (const [key, [, at]] of this.recent) if (at < floor) this.recent.delete(key);
    this.current = undefined;
  }

  /** Where reading `object` starts: its stored progress when it is the same object, else the start. */
  resumeAt(object: ObjectInfo): ObjectProgress {
    const c = this.current;
    if (c && c.key === object.key && c.etag === object.etag) return c;
    return {
      key: object.key,
      etag: object.etag,
      last_modified: object.lastModified,
      offset: 0,
      line: 0,
      row: 0,
    };
  }

  bookmark(complete = false): JsonValue {
    const value: S3Bookmark = {
      kind: 's3-listing',
      v: 1,
      source: this.source,
      recent: [...this.recent].map(([key, [etag]]) => [key, etag]),
    };
    if (this.after) value.after = this.after;
    if (this.current) value.current = this.current;
    if (complete) value.complete = true;
    return value as unknown as JsonValue;
  }
}
