/**
 * The bookmark of a non-windowed read: `{cursor?, etag?, last_modified?}`. The cursor is the running
 * max of `cursor_field` (stored on the final page only: REST responses are unordered); the validators
 * come from the first response and are sent back as If-None-Match / If-Modified-Since.
 */
import type { JsonObject, JsonValue } from '@faucet/core';

export interface RestBookmark {
  cursor?: JsonValue;
  etag?: string;
  last_modified?: string;
}

export function readBookmark(stored: JsonValue | undefined): RestBookmark {
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return {};
  const out: RestBookmark = {};
  if (stored.cursor !== undefined) out.cursor = stored.cursor;
  if (typeof stored.etag === 'string') out.etag = stored.etag;
  if (typeof stored.last_modified === 'string') out.last_modified = stored.last_modified;
  return out;
}

export function writeBookmark(bookmark: RestBookmark): JsonObject | undefined {
  const out: JsonObject = {};
  if (bookmark.cursor !== undefined) out.cursor = bookmark.cursor;
  if (bookmark.etag !== undefined) out.etag = bookmark.etag;
  if (bookmark.last_modified !== undefined) out.last_modified = bookmark.last_modified;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function conditionalHeaders(bookmark: RestBookmark): Record<string, string> {
  const headers: Record<string, string> = {};
  if (bookmark.etag !== undefined) headers['if-none-match'] = bookmark.etag;
  if (bookmark.last_modified !== undefined) headers['if-modified-since'] = bookmark.last_modified;
  return headers;
}
