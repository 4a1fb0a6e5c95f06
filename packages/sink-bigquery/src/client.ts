/**
 * The REST calls the sink makes, through the official client (`@google-cloud/bigquery`): its auth,
 * endpoint and request plumbing, with the client's own retries turned off so that every retry is the
 * sink's decision (same insertIds, same job id). Bodies the sink already serialised are sent as text.
 */
import type { Readable } from 'node:stream';
import { BigQuery } from '@google-cloud/bigquery';
import type { ClientAuth } from './auth.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface CallOptions {
  query?: Record<string, string | number | boolean>;
  /** An object (sent as JSON) or JSON text. */
  body?: unknown;
}

/** What the sink needs of BigQuery's REST API. */
export interface BigQueryApi {
  /** A JSON call under `/bigquery/v2/projects/{project}`: `call('GET', '/datasets/d/tables/t')`. */
  call<T>(method: HttpMethod, path: string, options?: CallOptions): Promise<T>;
  /** `jobs.insert` through the upload endpoint: the job resource, then the data (multipart/related). */
  upload<T>(job: unknown, data: Readable): Promise<T>;
  /** host:port of the API, for messages. */
  readonly server: string;
}

export const DEFAULT_ENDPOINT = 'https://bigquery.googleapis.com';

/** host:port of a URL (the default port spelled out). */
export function serverOf(endpoint: string): string {
  const url = new URL(endpoint);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname}:${port}`;
}

export interface ClientSettings {
  projectId: string;
  endpoint?: string | undefined;
  location?: string | undefined;
}

/** A client of our own: the official one, with our credentials and no automatic retries. */
export function createClient(settings: ClientSettings, authClient: ClientAuth): BigQuery {
  return new BigQuery({
    projectId: settings.projectId,
    ...(settings.endpoint === undefined ? {} : { apiEndpoint: settings.endpoint }),
    ...(settings.location === undefined ? {} : { location: settings.location }),
    authClient,
    autoRetry: false,
    maxRetries: 0,
  });
}

type Callback = (error: Error | null, body?: unknown) => void;

interface RequestClient {
  request(options: Record<string, unknown>, callback: Callback): void;
  makeAuthenticatedRequest(options: Record<string, unknown>, callback: Callback): void;
  apiEndpoint: string;
}

/** The API over a client (ours, or one the caller injected), always addressing `projectId`. */
export function apiOver(client: BigQuery, projectId: string, timeoutMs: number): BigQueryApi {
  const raw = client as unknown as RequestClient;
  const endpoint = raw.apiEndpoint || DEFAULT_ENDPOINT;
  const send = <T>(run: (callback: Callback) => void): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      run((error, body) => (error ? reject(error) : resolve(body as T)));
    });
  return {
    server: serverOf(endpoint),
    call<T>(method: HttpMethod, path: string, options: CallOptions = {}) {
      const text = typeof options.body === 'string' ? options.body : undefined;
      return send<T>((callback) =>
        raw.request(
          {
            method,
            uri: path,
            projectId,
            timeout: timeoutMs,
            ...(options.query ? { qs: options.query } : {}),
            // Text is sent as it is: the client deep-copies request options, which a large `json`
            // object (an insertAll of thousands of rows) would make expensive.
            ...(text !== undefined
              ? { body: text, headers: { 'Content-Type': 'application/json' } }
              : options.body === undefined
                ? {}
                : { json: options.body }),
          },
          callback,
        ),
      );
    },
    upload<T>(job: unknown, data: Readable) {
      return send<T>((callback) =>
        raw.makeAuthenticatedRequest(
          {
            method: 'POST',
            uri: `${endpoint}/upload/bigquery/v2/projects/${encodeURIComponent(projectId)}/jobs`,
            qs: { uploadType: 'multipart' },
            headers: {},
            timeout: timeoutMs,
            multipart: [
              { 'Content-Type': 'application/json', body: JSON.stringify(job) },
              // The data part must be a stream: the client's multipart writer ends the body only
              // when a stream part ends.
              { 'Content-Type': 'application/octet-stream', body: data },
            ],
          },
          callback,
        ),
      );
    },
  };
}
