/**
 * What every part of the sink shares: the config, the connection (made on first use, after the
 * credentials were checked), and `attempt`, which retries what may be retried (5xx, quota, network)
 * with the same request (same insertIds, same job id) and turns what still fails into a FaucetError.
 */

import {
  type FaucetError,
  isFaucetError,
  type Logger,
  type Redactor,
  type RetryPolicy,
  retry,
  retryPolicyFromConfig,
  SinkError,
} from '@faucet/core';
import type { BigQuery } from '@google-cloud/bigquery';
import { resolveAuth } from './auth.js';
import { apiOver, type BigQueryApi, createClient, DEFAULT_ENDPOINT, serverOf } from './client.js';
import type { BigQuerySinkConfig } from './config.js';
import { CONNECTOR, isRetryableApiError, wrapApiError } from './errors.js';

export interface TableRef {
  projectId: string;
  datasetId: string;
  tableId: string;
}

export interface SinkContext {
  readonly config: BigQuerySinkConfig;
  readonly logger: Logger;
  readonly redactor: Redactor;
  /** The target table. */
  readonly ref: TableRef;
  /** `project.dataset.table`, for messages. */
  readonly display: string;
  /** host:port of the API. */
  readonly server: string;
  /** The API, connected (and the credentials checked) on first use. */
  api(): Promise<BigQueryApi>;
  /**
   * Run `call` (retried while the failure is retryable, always with the same request) and wrap what
   * still fails: `action` says what was being done, for the message.
   */
  attempt<T>(action: string, call: (api: BigQueryApi) => Promise<T>, options?: AttemptOptions): Promise<T>;
  /** A FaucetError for a client error. */
  wrap(error: unknown, action: string): FaucetError;
  /** Aborted by close(): waits (job polls, retry backoffs) end at once. */
  readonly signal: AbortSignal;
}

export interface AttemptOptions {
  /** Whether a failure is worth another try (default: 5xx, quota, network). */
  retryable?: (error: unknown) => boolean;
}

export function createContext(
  config: BigQuerySinkConfig,
  options: { logger: Logger; redactor: Redactor; client?: BigQuery | undefined; signal: AbortSignal },
): SinkContext {
  const { logger, redactor } = options;
  const endpoint = config.api_endpoint ?? DEFAULT_ENDPOINT;
  const injected = options.client;
  const server = serverOf(injected ? (injected.apiEndpoint ?? endpoint) : endpoint);
  const ref: TableRef = {
    projectId: config.project_id,
    datasetId: config.dataset_id,
    tableId: config.table_id,
  };
  const display = `${ref.projectId}.${ref.datasetId}.${ref.tableId}`;
  const policy: RetryPolicy = retryPolicyFromConfig(config.retry);
  let connecting: Promise<BigQueryApi> | undefined;

  const wrap = (error: unknown, action: string): FaucetError =>
    wrapApiError(error, { action, server, redactor });

  async function connect(): Promise<BigQueryApi> {
    if (injected) return apiOver(injected, ref.projectId, config.request_timeout_ms);
    try {
      const authClient = await resolveAuth(config.auth, endpoint, redactor);
      const client = createClient(
        {
          projectId: ref.projectId,
          endpoint: config.api_endpoint,
          location: config.location,
        },
        authClient,
      );
      return apiOver(client, ref.projectId, config.request_timeout_ms);
    } catch (error) {
      throw redactor.redactError(
        isFaucetError(error)
          ? error
          : new SinkError(`bigquery sink: cannot set up the client: ${String(error)}`, {
              connector: CONNECTOR,
              cause: error,
            }),
      );
    }
  }

  const api = (): Promise<BigQueryApi> => {
    connecting ??= connect();
    // A failed set-up is reported once per call and tried again next time (a key file may be fixed).
    connecting.catch(() => {
      connecting = undefined;
    });
    return connecting;
  };

  return {
    config,
    logger,
    redactor,
    ref,
    display,
    server,
    api,
    wrap,
    signal: options.signal,
    async attempt<T>(
      action: string,
      call: (api: BigQueryApi) => Promise<T>,
      attemptOptions: AttemptOptions = {},
    ) {
      const client = await api();
      try {
        return await retry(() => call(client), {
          policy,
          signal: options.signal,
          isRetryable: attemptOptions.retryable ?? isRetryableApiError,
          onRetry: ({ attempt, delayMs, error }) =>
            logger.warn('bigquery sink: request failed; retrying with the same request', {
              action,
              attempt,
              delay_ms: Math.round(delayMs),
              error: wrap(error, action).message,
            }),
        });
      } catch (error) {
        throw wrap(error, action);
      }
    },
  };
}
