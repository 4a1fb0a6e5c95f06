/**
 * The kafka sink. A `write` resolves once the brokers acknowledged its messages (acks all by
 * default), so `flush()` has nothing left to do. Plain writes go through an idempotent producer and
 * report rows that cannot be sent (or that the broker refuses) as per-row failures. Effectively-once
 * writes (`writeIdempotent`) put a page's messages and its commit token in one Kafka transaction,
 * under the transactional id `<transactional_id_prefix>-<state key>`, so a restarted run fences the
 * crashed one and reads back what it committed last.
 */
import {
  brokerNames,
  createKafka,
  durationMs,
  kafkaErrorType,
  mapKafkaError,
  retryKafka,
} from '@faucet/common-kafka';
import {
  type CommitScope,
  ConfigError,
  type FaucetError,
  type FaucetRecord,
  type Logger,
  Redactor,
  type RowFailure,
  type Sink,
  SinkError,
  silentLogger,
  type WriteResult,
} from '@faucet/core';
import type { Kafka } from 'kafkajs';
import { SinkClients } from './clients.js';
import { type KafkaSinkConfig, type KafkaSinkConfigInput, kafkaSinkConfigSchema } from './config.js';
import { Planner, type SendPlan } from './plan.js';
import { prepareMessages } from './prepare.js';
import { compressionOf, type SendSettings, sendPlain, sendTransaction } from './send.js';
import { ensureTokenTopic, readLastToken } from './tokens.js';
import { TopicCatalog } from './topics.js';

const CONNECTOR = 'kafka';

export interface KafkaSinkOptions {
  logger?: Logger;
  redactor?: Redactor;
  /** A kafkajs client to use instead of one made from the config. */
  kafka?: Kafka;
}

/** The sink (effectively-once capable), plus a `check()` probe (brokers reachable, a fixed topic exists). */
export interface KafkaSink extends Sink {
  writeIdempotent: NonNullable<Sink['writeIdempotent']>;
  lastCommittedToken: NonNullable<Sink['lastCommittedToken']>;
  check(): Promise<void>;
  close(): Promise<void>;
}

function parseConfig(input: KafkaSinkConfigInput): KafkaSinkConfig {
  const result = kafkaSinkConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    { context: `invalid config for sink "${CONNECTOR}"` },
  );
}

function redactorFor(config: KafkaSinkConfig): Redactor {
  const redactor = Redactor.forConfig(config);
  if (config.auth.type !== 'none') redactor.add(config.auth.password);
  if (typeof config.tls === 'object' && config.tls.passphrase) redactor.add(config.tls.passphrase);
  return redactor;
}

const rowError = (message: string, cause?: unknown): SinkError =>
  new SinkError(message, {
    code: 'SINK_ROW_REJECTED',
    connector: CONNECTOR,
    ...(cause === undefined ? {} : { cause }),
  });

export function createKafkaSink(input: KafkaSinkConfigInput, options: KafkaSinkOptions = {}): KafkaSink {
  const config = parseConfig(input);
  const logger = options.logger ?? silentLogger;
  const redactor = options.redactor ?? redactorFor(config);
  const brokers = brokerNames(config.brokers);
  const where = `kafka sink (${brokers})`;
  const kafka = options.kafka ?? createKafka(config, { logger, redactor });
  const planner = new Planner(config.max_message_bytes);
  const settings: SendSettings = {
    acks: config.acks === 'all' ? -1 : config.acks,
    compression: compressionOf(config.compression),
    errorType: kafkaErrorType,
  };
  const clients = new SinkClients(kafka, config);
  const getAdmin = () => clients.getAdmin();
  let tokenTopicReady = false;
  let closed = false;

  const wrap = (error: unknown, action: string): FaucetError =>
    mapKafkaError(error, {
      name: 'kafka sink',
      connector: CONNECTOR,
      brokers,
      action,
      redactor,
      failure: (message, opts) => new SinkError(message, opts),
      ...(config.auth.type === 'none' ? {} : { user: config.auth.username }),
    });

  const catalog = new TopicCatalog(getAdmin, (topic, error) =>
    logger.debug('kafka sink: cannot read the topic config; using the broker defaults', {
      topic,
      error: redactor.redact(error instanceof Error ? error.message : String(error)),
    }),
  );

  async function planWrite(
    records: readonly FaucetRecord[],
  ): Promise<{ plan: SendPlan; failures: RowFailure[] }> {
    const prepared = prepareMessages(records, config);
    const topics = await retryKafka(() => catalog.lookup(prepared.messages.map((m) => m.topic)));
    const plan = planner.plan(prepared.messages, topics);
    const failures: RowFailure[] = [...prepared.failures, ...plan.failures].map((f) => ({
      index: f.index,
      error: rowError(`${where}: ${f.error.message}`),
    }));
    return { plan, failures };
  }

  async function write(records: FaucetRecord[]): Promise<WriteResult> {
    if (closed) throw new SinkError(`${where}: used after close()`, { connector: CONNECTOR });
    if (records.length === 0) return {};
    try {
      const { plan, failures } = await planWrite(records);
      const rejected = await sendPlain(await clients.getPlain(), plan, settings);
      for (const r of rejected) {
        const type = kafkaErrorType(r.error) ?? 'rejected';
        failures.push({
          index: r.index,
          error: rowError(`${where}: the broker refused the message (${type})`, r.error),
        });
      }
      failures.sort((a, b) => a.index - b.index);
      return failures.length > 0 ? { failed: failures } : {};
    } catch (error) {
      throw wrap(error, `writing ${records.length} messages`);
    }
  }

  async function ensureTokens(): Promise<void> {
    if (tokenTopicReady) return;
    const a = await getAdmin();
    if (config.create_commit_token_topic) await ensureTokenTopic(a, config.commit_token_topic);
    else if (!(await a.listTopics()).includes(config.commit_token_topic)) {
      throw new SinkError(
        `${where}: the commit token topic "${config.commit_token_topic}" does not exist ` +
          '(create it compacted, or set create_commit_token_topic: true)',
        { connector: CONNECTOR },
      );
    }
    tokenTopicReady = true;
  }

  async function writeIdempotent(records: FaucetRecord[], commit: CommitScope): Promise<WriteResult> {
    if (closed) throw new SinkError(`${where}: used after close()`, { connector: CONNECTOR });
    let plan: SendPlan;
    try {
      await ensureTokens();
      const planned = await planWrite(records);
      const first = planned.failures[0];
      if (first) {
        const message = first.error instanceof Error ? first.error.message : String(first.error);
        throw new SinkError(
          `${where}: row ${first.index} of an effectively-once page cannot be sent, so none of the page was ` +
            `written (${message})`,
          { connector: CONNECTOR, code: 'SINK_ROW_REJECTED' },
        );
      }
      plan = planned.plan;
      const producer = await clients.getTransactional(commit.scope);
      await sendTransaction(
        producer,
        plan,
        { topic: config.commit_token_topic, scope: commit.scope, token: commit.token },
        settings,
      );
    } catch (error) {
      throw wrap(error, `committing a transaction of ${records.length} messages`);
    }
    return {};
  }

  async function lastCommittedToken(scope: string): Promise<string | undefined> {
    try {
      await ensureTokens();
      // Fence first: a transaction a crashed run left open under this id is aborted now.
      const producer = await clients.getTransactional(scope);
      const fence = await producer.transaction();
      await fence.abort();
      const timeoutMs = durationMs(config.transaction_timeout) + 30_000;
      const admin = await getAdmin();
      return await retryKafka(() => readLastToken(kafka, admin, config.commit_token_topic, scope, timeoutMs));
    } catch (error) {
      throw wrap(error, `reading the commit token of "${scope}" from topic "${config.commit_token_topic}"`);
    }
  }

  return {
    batchSize: config.batch_size,
    write,
    writeIdempotent,
    lastCommittedToken,
    // Every write is acknowledged before it resolves: there is never anything left to make durable.
    async flush() {},
    async check() {
      try {
        const a = await getAdmin();
        const fixed =
          typeof config.topic === 'string'
            ? config.topic
            : config.topic.type === 'fixed'
              ? config.topic.name
              : undefined;
        if (fixed !== undefined && !(await a.listTopics()).includes(fixed)) {
          throw new SinkError(`${where}: topic "${fixed}" does not exist`, { connector: CONNECTOR });
        }
      } catch (error) {
        throw wrap(error, 'checking the brokers and the topic');
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await clients.closeAll();
    },
  };
}
