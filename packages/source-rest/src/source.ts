/**
 * The rest source. A read walks the configured pagination over one request (or one per partition,
 * or per time window), keeping records past the stored cursor. Bookmarks:
 *
 * - Incremental / conditional: `{cursor?, etag?, last_modified?}` on the final page only (unordered).
 * - `partitions`: the same bookmark per partition, on that partition's final page, with
 *   `page.partition` set so the engine stores it under `{stateKey}::{id}`.
 * - `window`: the `readSlices` bookmark, one checkpoint at the end of each window.
 * - FullTable without conditional requests: no bookmark (every run reads everything).
 */
import {
  ConfigError,
  configJsonSchema,
  type DiscoveredStream,
  type Logger,
  Redactor,
  type Source,
  silentLogger,
} from '@faucet/core';
import { createRestClient } from './client.js';
import {
  durationMs,
  type RestSourceConfig,
  type RestSourceConfigInput,
  restSourceConfigSchema,
} from './config.js';
import { isValidPath } from './jsonpath.js';
import { partitionIds } from './partitions.js';
import { firstPage, type Partition, readPartitioned, readPlain, readWindows } from './reads.js';
import { inferSchema } from './schema.js';

export interface RestSourceOptions {
  logger?: Logger;
  /** Scrubs secrets from messages (default: the schema-marked secrets of the config). */
  redactor?: Redactor;
  /** Clock (ms since epoch) for time windows, token expiry and Retry-After dates. */
  now?: () => number;
  /** Sleep used by retries and the rate limit (tests inject one that records and returns). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Jitter source for retries. */
  random?: () => number;
  /** Replaces the HTTP client (undici with the `tls` settings); tests inject one. */
  fetch?: typeof fetch;
}

function parseConfig(input: RestSourceConfigInput): RestSourceConfig {
  const result = restSourceConfigSchema.safeParse(input);
  const issues = result.success
    ? []
    : result.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.'),
        message: issue.message,
      }));
  if (result.success) {
    const c = result.data;
    const paths: [string, string | undefined][] = [
      ['records_path', c.records_path],
      ['pagination.cursor_path', c.pagination.type === 'cursor' ? c.pagination.cursor_path : undefined],
      [
        'pagination.next_link_path',
        c.pagination.type === 'next_link' ? c.pagination.next_link_path : undefined,
      ],
      ['pagination.total_path', c.pagination.type === 'offset' ? c.pagination.total_path : undefined],
    ];
    for (const [path, value] of paths) {
      if (value !== undefined && !isValidPath(value)) {
        issues.push({ path, message: `unsupported JSONPath ${JSON.stringify(value)}` });
      }
    }
    if (c.window && !Number.isFinite(durationMs(c.window.size))) {
      issues.push({ path: 'window.size', message: 'not a duration' });
    }
    if (c.partitions) {
      try {
        partitionIds(c.partitions.values);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        issues.push(...error.issues);
      }
    }
    if (issues.length === 0) return c;
  }
  throw new ConfigError(issues, { context: 'invalid config for source "rest"' });
}

export function createRestSource(input: RestSourceConfigInput, options: RestSourceOptions = {}): Source {
  const config = parseConfig(input);
  const redactor =
    options.redactor ??
    Redactor.forConfig(config, configJsonSchema({ configSchema: restSourceConfigSchema }));
  const client = createRestClient(config, {
    redactor,
    now: options.now ?? Date.now,
    defaultLogger: options.logger ?? silentLogger,
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const partitionValues = config.partitions?.values;
  const partitions: Partition[] | undefined = partitionValues
    ? partitionIds(partitionValues).map((id, i) => ({ value: partitionValues[i] as Partition['value'], id }))
    : undefined;

  return {
    rereadsAll: config.replication_method.type === 'FullTable',
    read(ctx) {
      if (config.window) return readWindows(client, ctx);
      return partitions ? readPartitioned(client, ctx, partitions) : readPlain(client, ctx);
    },
    async check() {
      await firstPage(client);
    },
    async discover(): Promise<DiscoveredStream[]> {
      const sample = (await firstPage(client)).slice(0, config.schema_sample_size);
      const method = config.replication_method;
      return [
        {
          name: config.name ?? (config.path.replace(/^\/+/, '').replace(/[^\w.-]+/g, '_') || 'records'),
          schema: inferSchema(sample),
          ...(config.primary_keys.length > 0 ? { primaryKeys: [...config.primary_keys] } : {}),
          ...(method.type === 'Incremental' ? { cursorFields: [method.cursor_field] } : {}),
        },
      ];
    },
  };
}
