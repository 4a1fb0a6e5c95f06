/**
 * The elasticsearch sink. A `write` turns the page into `_bulk` operations, sends them in requests of
 * at most `batch_size` documents and `max_bulk_bytes` bytes (`concurrency` at a time), and resolves
 * once every item is acknowledged: written, refused for good (a per-row failure), or sent again until
 * the node takes it (429 back-pressure). Elasticsearch makes an acknowledged write durable (translog),
 * so `flush()` only refreshes when `refresh: wait_for` asks for search visibility.
 */
import type { Client } from '@elastic/elasticsearch';
import {
  type CommitScope,
  ConfigError,
  type FaucetRecord,
  type Logger,
  Redactor,
  type RowFailure,
  retryPolicyFromConfig,
  type Sink,
  SinkError,
  silentLogger,
  type WriteContext,
  type WriteResult,
} from '@faucet/core';
import { sendBulk } from './bulk.js';
import { CONNECTOR, createClient, serverName, wrapClientError } from './client.js';
import { CommitTokens } from './commit-token.js';
import {
  type ElasticsearchSinkConfig,
  type ElasticsearchSinkConfigInput,
  elasticsearchSinkConfigSchema,
} from './config.js';
import { pageIdPrefix } from './document-id.js';
import { parseIndexName } from './index-name.js';
import { prepareOperations } from './operations.js';
import { applyCreateIndex, checkTarget } from './setup.js';

export interface ElasticsearchSinkOptions {
  /** A client to use instead of one made from the config (not closed by `close()`). */
  client?: Client;
  logger?: Logger;
  /** Scrubs secrets from messages (default: the credentials of `auth` and any URL password). */
  redactor?: Redactor;
}

/** The sink, plus a `check()` probe (node reachable with these credentials, index writable or creatable). */
export interface ElasticsearchSink extends Sink {
  check(): Promise<void>;
  /** Closes the client the sink made itself (an injected one is left open). */
  close(): Promise<void>;
}

function parseConfig(input: ElasticsearchSinkConfigInput): ElasticsearchSinkConfig {
  const result = elasticsearchSinkConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    { context: 'invalid config for sink "elasticsearch"' },
  );
}

function defaultRedactor(config: ElasticsearchSinkConfig): Redactor {
  const redactor = Redactor.forConfig(config);
  const auth = config.auth;
  if (auth.type === 'basic') redactor.add(auth.password);
  if (auth.type === 'bearer') redactor.add(auth.token);
  if (auth.type === 'api_key') redactor.add(auth.api_key);
  return redactor;
}

export function createElasticsearchSink(
  input: ElasticsearchSinkConfigInput,
  options: ElasticsearchSinkOptions = {},
): ElasticsearchSink {
  const config = parseConfig(input);
  const logger = options.logger ?? silentLogger;
  const redactor = options.redactor ?? defaultRedactor(config);
  const server = serverName(config.base_url);
  const indexName = parseIndexName(config.index);
  const client = options.client ?? createClient(config);
  const policy = retryPolicyFromConfig(config.retry);
  const tokens = new CommitTokens(client, config.commit_token_index, config.index);
  const keyed = config.write_mode !== 'append';
  /** Indices written since the last flush (refresh: wait_for refreshes them). */
  const touched = new Set<string>();
  let prepared: Promise<void> | undefined;
  let retriesLogged = 0;
  let closed = false;

  const wrap = (error: unknown, action: string) => wrapClientError(error, { server, action, redactor });

  /** create_index, once per sink (again after a failure). */
  function prepareTarget(signal: AbortSignal): Promise<void> {
    const create = config.create_index;
    if (!create) return Promise.resolve();
    prepared ??= applyCreateIndex(client, indexName, create, signal).then(
      (outcome) => {
        if (outcome !== 'exists') logger.info(`elasticsearch sink: ${outcome} for "${config.index}"`, {});
      },
      (error: unknown) => {
        prepared = undefined;
        throw error;
      },
    );
    return prepared;
  }

  function onRetry(info: { attempt: number; documents: number; delayMs: number; reason: string }): void {
    // Back-pressure is routine under load: the first few are worth a warning, the rest a debug line.
    const fields = { attempt: info.attempt, documents: info.documents, delay_ms: info.delayMs };
    const message = `elasticsearch sink: the node refused ${info.documents} documents (${info.reason}); sending them again`;
    if (retriesLogged++ < 5) logger.warn(redactor.redact(message), fields);
    else logger.debug(redactor.redact(message), fields);
  }

  async function writeBatch(
    records: FaucetRecord[],
    ctx: WriteContext,
    commit?: CommitScope,
  ): Promise<WriteResult> {
    if (closed) throw new SinkError('elasticsearch sink: used after close()', { connector: CONNECTOR });
    if (records.length === 0 && !commit) return {};
    const action = `writing ${records.length} documents to index "${config.index}"`;
    try {
      await prepareTarget(ctx.signal);
      // Effectively-once appends without a key: ids from the page's commit token and position.
      const pagePrefix =
        commit && config.key.length === 0 ? pageIdPrefix(commit.scope, commit.token) : undefined;
      const { items, failures } = prepareOperations(records, {
        config,
        indexName,
        ...(pagePrefix === undefined ? {} : { pagePrefix }),
      });
      // Effectively-once: a page with a document that cannot be sent is refused before any is written.
      if (commit && failures.length > 0) return { failed: failures };
      if (config.refresh !== false) for (const item of items) touched.add(item.target);
      const rejected = await sendBulk(items, {
        client,
        server,
        pathIndex: indexName.fixed,
        pipeline: config.pipeline,
        maxDocs: config.batch_size,
        maxBytes: config.max_bulk_bytes,
        concurrency: config.concurrency,
        policy,
        idempotent: keyed || commit !== undefined,
        conflictIsWritten: pagePrefix !== undefined,
        redactor,
        signal: ctx.signal,
        onRetry,
      });
      if (commit && rejected.length === 0) await tokens.write(commit.scope, commit.token, ctx.signal);
      const all: RowFailure[] = [...failures, ...rejected].sort((a, b) => a.index - b.index);
      return all.length > 0 ? { failed: all } : {};
    } catch (error) {
      throw wrap(error, action);
    }
  }

  return {
    idempotentWrites: keyed,
    write: (records, ctx) => writeBatch(records, ctx),
    writeIdempotent: (records, commit, ctx) => writeBatch(records, ctx, commit),
    async lastCommittedToken(scope) {
      try {
        return await tokens.read(scope);
      } catch (error) {
        throw wrap(error, `reading the commit token of "${scope}" from index "${config.commit_token_index}"`);
      }
    },
    async flush() {
      if (touched.size === 0) return;
      const indices = [...touched];
      try {
        await client.indices.refresh({ index: indices, ignore_unavailable: true });
        touched.clear();
      } catch (error) {
        throw wrap(error, `refreshing ${indices.map((i) => `"${i}"`).join(', ')}`);
      }
    },
    async check() {
      try {
        await checkTarget({ client, config, name: indexName, server, logger });
      } catch (error) {
        throw wrap(error, `checking index "${config.index}"`);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (!options.client) await client.close();
    },
  };
}
