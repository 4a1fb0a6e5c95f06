/**
 * The connection side: the official client made from the config (or one the caller injects), the
 * `host:port` list for messages (never credentials), and the mapping of client errors to
 * FaucetErrors.
 */
import { Client, errors } from '@elastic/elasticsearch';
import {
  AuthError,
  ConnectionError,
  type FaucetError,
  isFaucetError,
  RateLimitedError,
  type Redactor,
  SinkError,
  TimeoutError,
} from '@faucet/core';
import type { ElasticsearchSinkConfig } from './config.js';

export const CONNECTOR = 'elasticsearch';

/** `host:port` of each configured node, for messages: never the user, password or path. */
export function serverName(baseUrl: string | readonly string[]): string {
  const urls = typeof baseUrl === 'string' ? [baseUrl] : baseUrl;
  return urls
    .map((value) => {
      try {
        const url = new URL(value);
        const port = url.port || (url.protocol === 'https:' ? '443' : '80');
        return `${url.hostname}:${port}`;
      } catch {
        return 'the configured node';
      }
    })
    .join(', ');
}

function clientAuth(auth: ElasticsearchSinkConfig['auth']) {
  switch (auth.type) {
    case 'none':
      return undefined;
    case 'basic':
      return { username: auth.username, password: auth.password };
    case 'bearer':
      return { bearer: auth.token };
    case 'api_key':
      return { apiKey: auth.id === undefined ? auth.api_key : { id: auth.id, api_key: auth.api_key } };
  }
}

/** A client of our own. Retries are ours (only where they are safe), so the client makes none of its own. */
export function createClient(config: ElasticsearchSinkConfig): Client {
  const auth = clientAuth(config.auth);
  return new Client({
    nodes: typeof config.base_url === 'string' ? [config.base_url] : config.base_url,
    ...(auth ? { auth } : {}),
    requestTimeout: config.request_timeout_ms,
    maxRetries: 0,
    compression: false,
    name: 'faucet-sink-elasticsearch',
  });
}

/** What Elasticsearch said about an error: `{error: {type, reason}}` of a response body. */
export interface ServerErrorInfo {
  type?: string;
  reason?: string;
}

export function describeServerError(info: ServerErrorInfo | undefined): string {
  if (!info) return 'no reason given';
  const type = info.type ?? 'error';
  return info.reason ? `${type}: ${info.reason}` : type;
}

function responseInfo(error: errors.ResponseError): ServerErrorInfo | undefined {
  const body: unknown = error.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const inner = (body as { error?: unknown }).error;
  if (typeof inner === 'string') return { reason: inner };
  if (typeof inner !== 'object' || inner === null) return undefined;
  const { type, reason } = inner as { type?: unknown; reason?: unknown };
  return {
    ...(typeof type === 'string' ? { type } : {}),
    ...(typeof reason === 'string' ? { reason } : {}),
  };
}

export interface ErrorContext {
  server: string;
  /** What was being done: `writing 1000 documents to "logs"`, `reading the commit token`. */
  action: string;
  redactor: Redactor;
}

/** The HTTP status of a client error, when the node answered. */
export function statusOf(error: unknown): number | undefined {
  return error instanceof errors.ResponseError ? error.statusCode : undefined;
}

/** The `error.type` of a node's answer (`index_not_found_exception`), when it gave one. */
export function errorTypeOf(error: unknown): string | undefined {
  return error instanceof errors.ResponseError ? responseInfo(error)?.type : undefined;
}

/**
 * A FaucetError for anything the client threw: network errors name `host:port`, 401/403 are auth
 * errors, 429 is rate limiting, other answers keep Elasticsearch's error type and reason. Secrets are
 * scrubbed from the whole chain.
 */
export function wrapClientError(error: unknown, ctx: ErrorContext): FaucetError {
  if (isFaucetError(error)) return ctx.redactor.redactError(error);
  const where = `elasticsearch sink (${ctx.server})`;
  const options = { connector: CONNECTOR, cause: error };
  let wrapped: FaucetError;
  if (error instanceof errors.ConnectionError || error instanceof errors.NoLivingConnectionsError) {
    wrapped = new ConnectionError(`${where}: cannot reach the node while ${ctx.action}`, options);
  } else if (error instanceof errors.TimeoutError) {
    wrapped = new TimeoutError(`${where}: no answer in time while ${ctx.action}`, options);
  } else if (error instanceof errors.ProductNotSupportedError) {
    wrapped = new SinkError(
      `${where}: the server does not identify as Elasticsearch (${ctx.action})`,
      options,
    );
  } else if (error instanceof errors.ResponseError) {
    const status = error.statusCode ?? 0;
    const text = `${where}: ${describeServerError(responseInfo(error))} (HTTP ${status}) while ${ctx.action}`;
    if (status === 401) {
      wrapped = new AuthError(
        `${where}: authentication failed (HTTP 401) while ${ctx.action}; check auth`,
        options,
      );
    } else if (status === 403) {
      wrapped = new AuthError(text, options);
    } else if (status === 429) {
      wrapped = new RateLimitedError(text, options);
    } else {
      wrapped = new SinkError(text, { ...options, retryable: status >= 500 });
    }
  } else {
    const message = error instanceof Error ? error.message : String(error);
    wrapped = new SinkError(`${where}: ${message} while ${ctx.action}`, options);
  }
  return ctx.redactor.redactError(wrapped);
}
