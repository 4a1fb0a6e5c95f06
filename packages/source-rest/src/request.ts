/**
 * One HTTP exchange: URL building, a timeout and the run's signal on one controller per request,
 * status → typed error mapping, and URLs redacted before they reach a message.
 */
import {
  AuthError,
  ConnectionError,
  RateLimitedError,
  type Redactor,
  SourceError,
  TimeoutError,
} from '@faucet/core';
import { describeTlsFailure } from './transport.js';

export type QueryValue = string | number | boolean | readonly (string | number | boolean)[];

export interface HttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: unknown;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  url: string;
}

const CONNECTOR = 'rest';
const MAX_BODY_IN_MESSAGE = 500;

/** `base_url` + `path` with `{name}` placeholders filled (URL-encoded). */
export function buildUrl(
  baseUrl: string,
  path: string,
  params: Readonly<Record<string, string | number>>,
): URL {
  const filled = path.replace(/\{([^{}]+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : encodeURIComponent(String(value));
  });
  if (filled === '') return new URL(baseUrl);
  if (/^https?:\/\//i.test(filled)) return new URL(filled);
  const base = baseUrl.endsWith('/') ? baseUrl.slice(0, -1) : baseUrl;
  return new URL(`${base}${filled.startsWith('/') ? '' : '/'}${filled}`);
}

/** Sets (replaces) query params; arrays become repeated params. */
export function setQuery(url: URL, params: Readonly<Record<string, QueryValue>>): void {
  for (const [key, value] of Object.entries(params)) {
    url.searchParams.delete(key);
    if (Array.isArray(value)) for (const v of value) url.searchParams.append(key, String(v));
    else url.searchParams.set(key, String(value));
  }
}

/** The URL as it may be shown: no user info, secret query params masked, known secrets scrubbed. */
export function displayUrl(url: URL | string, redactor: Redactor, secretParams: readonly string[]): string {
  const copy = new URL(String(url));
  copy.username = '';
  copy.password = '';
  for (const name of secretParams) {
    if (copy.searchParams.has(name)) copy.searchParams.set(name, '***');
  }
  return redactor.redact(copy.toString().replace(/%2A%2A%2A/g, '***'));
}

function snippet(text: string, redactor: Redactor): string {
  const clean = redactor.redact(text.replace(/\s+/g, ' ').trim());
  return clean.length > MAX_BODY_IN_MESSAGE ? `${clean.slice(0, MAX_BODY_IN_MESSAGE)}…` : clean;
}

/** The first error in the cause chain that carries a code (`ECONNREFUSED`, `SELF_SIGNED_CERT_IN_CHAIN`). */
function rootFailure(error: unknown): { code: string; message: string } | undefined {
  let current: unknown = error;
  for (let i = 0; i < 5 && current instanceof Error; i++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return { code, message: current.message };
    current = current.cause;
  }
  return undefined;
}

export interface SendOptions {
  timeoutMs: number;
  signal: AbortSignal;
  redactor: Redactor;
  secretParams: readonly string[];
  fetch?: typeof fetch;
}

/** Sends one request and reads the whole body; transport failures become typed, retryable errors. */
export async function send(request: HttpRequest, options: SendOptions): Promise<HttpResponse> {
  const shown = displayUrl(request.url, options.redactor, options.secretParams);
  const where = `${request.method} ${shown}`;
  if (options.signal.aborted) throw options.signal.reason;
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal.reason);
  options.signal.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  let body: string | undefined;
  if (request.body !== undefined) {
    body = JSON.stringify(request.body);
    headers['content-type'] ??= 'application/json';
  }
  try {
    const res = await (options.fetch ?? fetch)(request.url, {
      method: request.method,
      headers,
      signal: controller.signal,
      redirect: 'follow',
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, url: res.url || request.url.toString() };
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason;
    if (timedOut) {
      throw new TimeoutError(`${where}: no response within ${options.timeoutMs} ms`, {
        connector: CONNECTOR,
        retryable: true,
      });
    }
    const failure = rootFailure(error);
    const code = failure?.code ?? 'network error';
    const port = request.url.port || (request.url.protocol === 'https:' ? '443' : '80');
    const hostPort = `${request.url.hostname}:${port}`;
    const tls = failure && describeTlsFailure(code, options.redactor.redact(failure.message), hostPort);
    if (tls) throw new ConnectionError(`${where}: ${tls}`, { connector: CONNECTOR, retryable: false });
    throw new ConnectionError(`${where}: cannot reach ${hostPort} (${code})`, {
      connector: CONNECTOR,
      retryable: true,
    });
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', onAbort);
  }
}

export interface StatusOptions {
  redactor: Redactor;
  secretParams: readonly string[];
  parseRetryAfter: (header: string | null) => number | undefined;
}

/** Throws the typed error for a failed status; returns for 2xx and 304. */
export function checkStatus(request: HttpRequest, res: HttpResponse, options: StatusOptions): void {
  if ((res.status >= 200 && res.status < 300) || res.status === 304) return;
  const where = `${request.method} ${displayUrl(request.url, options.redactor, options.secretParams)}`;
  const detail = res.text ? `: ${snippet(res.text, options.redactor)}` : '';
  const message = `${where}: HTTP ${res.status}${detail}`;
  if (res.status === 401 || res.status === 403) {
    throw new AuthError(message, { connector: CONNECTOR });
  }
  if (res.status === 429 || (res.status === 503 && res.headers.has('retry-after'))) {
    throw new RateLimitedError(message, {
      connector: CONNECTOR,
      retryable: true,
      retryAfterMs: options.parseRetryAfter(res.headers.get('retry-after')),
    });
  }
  throw new HttpStatusError(message, res.status, res.status >= 500 || res.status === 408);
}

export class HttpStatusError extends SourceError {
  constructor(
    message: string,
    readonly status: number,
    retryable: boolean,
  ) {
    super(message, { connector: CONNECTOR, retryable });
  }
}

export function parseJson(res: HttpResponse, where: string, redactor: Redactor): unknown {
  if (res.status === 204 || res.status === 304 || res.text.trim() === '') return undefined;
  try {
    return JSON.parse(res.text);
  } catch (error) {
    throw new SourceError(`${where}: response is not JSON: ${snippet(res.text, redactor)}`, {
      connector: CONNECTOR,
      cause: error,
    });
  }
}
