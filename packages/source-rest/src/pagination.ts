/**
 * Pagination: walks the pages of one request, yielding each page's records as it arrives. Every style
 * refuses a cursor, link or page body it has already seen (a server bug that would loop forever), and
 * `max_pages` bounds the walk.
 */
import { createHash } from 'node:crypto';
import { type FaucetRecord, type Logger, SourceError } from '@faucet/core';
import type { PaginationConfig } from './config.js';
import { first, isMulti, select } from './jsonpath.js';
import type { HttpRequest, HttpResponse } from './request.js';

export interface FetchedPage {
  records: FaucetRecord[];
  response: HttpResponse;
  body: unknown;
}

/** Sends a request (auth, retries, rate limit applied); `undefined` for a tolerated status. */
export type Exchange = (
  request: HttpRequest,
) => Promise<{ response: HttpResponse; body: unknown } | undefined>;

export interface PaginateOptions {
  pagination: PaginationConfig;
  recordsPath: string | undefined;
  maxPages: number;
  logger: Logger;
  describe: (request: HttpRequest) => string;
}

function isRecord(value: unknown): value is FaucetRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The records of a body: at `records_path`, else a top-level array, else the object itself. */
export function extractRecords(body: unknown, recordsPath: string | undefined): FaucetRecord[] {
  if (body === undefined || body === null) return [];
  let found: unknown;
  if (recordsPath === undefined) found = body;
  else if (isMulti(recordsPath)) found = select(body, recordsPath);
  else found = first(body, recordsPath);
  if (found === undefined || found === null) return [];
  const list = Array.isArray(found) ? found : [found];
  const out: FaucetRecord[] = [];
  for (const item of list) out.push(isRecord(item) ? item : { value: item as FaucetRecord[string] });
  return out;
}

/** The `rel="next"` target of an RFC 8288 Link header. */
export function nextFromLinkHeader(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rel = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(match[2] ?? '');
    if (rel?.[1]?.split(/\s+/).includes('next')) return match[1];
  }
  return undefined;
}

function cloneRequest(request: HttpRequest): HttpRequest {
  return {
    method: request.method,
    url: new URL(request.url),
    headers: { ...request.headers },
    ...(request.body === undefined ? {} : { body: request.body }),
  };
}

function repeated(what: string, value: string, pages: number, where: string): SourceError {
  const shown = value.length > 100 ? `${value.slice(0, 100)}…` : value;
  return new SourceError(
    `${where}: the server returned ${what} ${JSON.stringify(shown)} again after ${pages} pages; ` +
      'stopping to avoid an infinite loop',
    { connector: 'rest' },
  );
}

export async function* paginate(
  initial: HttpRequest,
  exchange: Exchange,
  options: PaginateOptions,
): AsyncGenerator<FetchedPage, void, undefined> {
  const p = options.pagination;
  let request = cloneRequest(initial);
  let pageNumber = p.type === 'page_number' ? p.start_page : 0;
  let offset = 0;
  if (p.type === 'page_number') {
    request.url.searchParams.set(p.param, String(pageNumber));
    if (p.page_size !== undefined && p.page_size_param !== undefined) {
      request.url.searchParams.set(p.page_size_param, String(p.page_size));
    }
  } else if (p.type === 'offset') {
    request.url.searchParams.set(p.offset_param, '0');
    request.url.searchParams.set(p.limit_param, String(p.limit));
  }
  const seen = new Set<string>();
  let pages = 0;
  for (;;) {
    if (pages >= options.maxPages) {
      options.logger.warn(`rest: stopped after max_pages (${options.maxPages}) pages`, {
        url: options.describe(request),
      });
      return;
    }
    const result = await exchange(request);
    pages++;
    if (result === undefined) return;
    const { response, body } = result;
    const records = response.status === 304 ? [] : extractRecords(body, options.recordsPath);
    yield { records, response, body };
    if (response.status === 304 || response.status === 204) return;
    const where = options.describe(request);
    const next = cloneRequest(request);
    // Conditional headers belong to the first request only.
    delete next.headers['if-none-match'];
    delete next.headers['if-modified-since'];
    switch (p.type) {
      case 'none':
        return;
      case 'page_number': {
        if (records.length === 0) return;
        if (p.page_size !== undefined && records.length < p.page_size) return;
        const hash = createHash('sha1').update(response.text).digest('hex');
        if (seen.has(hash)) throw repeated('page', `page ${pageNumber}`, pages, where);
        seen.add(hash);
        pageNumber++;
        next.url.searchParams.set(p.param, String(pageNumber));
        break;
      }
      case 'offset': {
        offset += records.length;
        const total = p.total_path === undefined ? undefined : Number(first(body, p.total_path));
        if (records.length === 0 || records.length < p.limit) return;
        if (total !== undefined && Number.isFinite(total) && offset >= total) return;
        next.url.searchParams.set(p.offset_param, String(offset));
        break;
      }
      case 'cursor': {
        const token = first(body, p.cursor_path);
        if (token === undefined || token === null || token === '' || token === false) return;
        const key = typeof token === 'string' ? token : JSON.stringify(token);
        if (seen.has(key)) throw repeated('cursor', key, pages, where);
        seen.add(key);
        if (p.param !== undefined) next.url.searchParams.set(p.param, key);
        else {
          const base = isRecord(next.body) ? next.body : {};
          next.body = { ...base, [p.body_field ?? 'cursor']: token };
        }
        break;
      }
      case 'next_link':
      case 'link_header': {
        const link =
          p.type === 'next_link'
            ? first(body, p.next_link_path)
            : nextFromLinkHeader(response.headers.get('link'));
        if (typeof link !== 'string' || link === '') return;
        const url = new URL(link, response.url || request.url);
        seen.add(request.url.toString());
        if (seen.has(url.toString()))
          throw repeated('next link', options.describe({ ...next, url }), pages, where);
        next.url = url;
        break;
      }
    }
    request = next;
  }
}
