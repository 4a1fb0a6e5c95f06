/**
 * The kafka source. A read joins the consumer group, seeks every assigned partition to the stored
 * bookmark (or, for a partition it has none for, the group's committed offset, else
 * auto_offset_reset) and streams pages of at most `batch_size` messages, each a checkpoint whose
 * bookmark is the next offset of every partition read. The group's offsets are committed only from
 * `onCheckpoint`, which the engine calls once a bookmark is durably stored: the group never runs
 * ahead of what a crash would resume from, and tools watching it see the true lag.
 */
import {
  brokerNames,
  createKafka,
  durationMs,
  type KafkaErrorContext,
  mapKafkaError,
  retryKafka,
} from '@faucet/common-kafka';
import {
  ConfigError,
  type DiscoveredStream,
  type FaucetError,
  type JsonObject,
  type JsonValue,
  type Logger,
  type Page,
  Redactor,
  type Source,
  type SourceContext,
  SourceError,
  silentLogger,
} from '@faucet/core';
import type { Admin, Kafka } from 'kafkajs';
import { type PartitionOffset, parseBookmark } from './bookmark.js';
import { type KafkaSourceConfig, type KafkaSourceConfigInput, kafkaSourceConfigSchema } from './config.js';
import { readPages, StoredBookmarks } from './page-loop.js';
import { KafkaReader, type ReaderHooks, type ReaderSettings } from './reader.js';
import { clusterId, describeSelection, partitionLag, resolveTopics, selection, selects } from './topics.js';

const CONNECTOR = 'kafka';
/** How long a run that ends on its own waits for the engine to store (and so commit) its last page. */
const FINAL_ACK_WAIT_MS = 30_000;

export interface KafkaSourceOptions extends ReaderHooks {
  logger?: Logger;
  redactor?: Redactor;
  /** A kafkajs client to use instead of one made from the config (its connections are ours to open). */
  kafka?: Kafka;
}

export interface KafkaSource extends Source {
  check(): Promise<void>;
  discover(): Promise<DiscoveredStream[]>;
  /** Per partition: the group's committed offset, the high watermark, the lag. */
  status(): Promise<JsonObject>;
  close(): Promise<void>;
}

function parseConfig(input: KafkaSourceConfigInput): KafkaSourceConfig {
  const result = kafkaSourceConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    { context: `invalid config for source "${CONNECTOR}"` },
  );
}

function redactorFor(config: KafkaSourceConfig): Redactor {
  const redactor = Redactor.forConfig(config);
  if (config.auth.type !== 'none') redactor.add(config.auth.password);
  if (typeof config.tls === 'object' && config.tls.passphrase) redactor.add(config.tls.passphrase);
  return redactor;
}

export function createKafkaSource(
  input: KafkaSourceConfigInput,
  options: KafkaSourceOptions = {},
): KafkaSource {
  const config = parseConfig(input);
  const logger = options.logger ?? silentLogger;
  const redactor = options.redactor ?? redactorFor(config);
  const brokers = brokerNames(config.brokers);
  const where = `kafka source (${brokers})`;
  const sel = selection(config.topics, config.topic_pattern);
  const idleMs = durationMs(config.idle_timeout);
  const kafka = options.kafka ?? createKafka(config, { logger, redactor });
  /** The reader of the read in progress (onCheckpoint commits through it). */
  let active: KafkaReader | undefined;
  const stored = new StoredBookmarks();

  const wrap = (error: unknown, action: string): FaucetError => {
    const ctx: KafkaErrorContext = {
      name: 'kafka source',
      connector: CONNECTOR,
      brokers,
      action,
      redactor,
      failure: (message, opts) => new SourceError(message, opts),
      ...(config.auth.type === 'none' ? {} : { user: config.auth.username }),
    };
    return mapKafkaError(error, ctx);
  };

  async function withAdmin<T>(action: string, run: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = kafka.admin();
    try {
      await admin.connect();
      return await run(admin);
    } catch (error) {
      throw wrap(error, action);
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  function settings(topics: string[]): ReaderSettings {
    return {
      groupId: config.group_id,
      topics: config.topic_pattern ? new RegExp(config.topic_pattern) : topics,
      autoOffsetReset: config.auto_offset_reset,
      readUncommitted: config.isolation_level === 'read_uncommitted',
      maxBuffered: config.max_buffered_messages,
      sessionTimeoutMs: durationMs(config.session_timeout),
      rebalanceTimeoutMs: durationMs(config.rebalance_timeout),
      heartbeatIntervalMs: durationMs(config.heartbeat_interval),
      maxBytesPerPartition: config.max_bytes_per_partition,
      maxBytes: config.max_bytes,
      maxWaitMs: durationMs(config.max_wait_time),
    };
  }

  /** The stored bookmark's offsets for the topics this config reads (others are left behind). */
  function startOffsets(
    bookmark: JsonValue | undefined,
    cluster: string | null,
  ): Map<string, PartitionOffset> {
    const start = parseBookmark(bookmark, cluster);
    for (const [key, offset] of start) if (!selects(sel, offset.topic)) start.delete(key);
    return start;
  }

  async function* read(ctx: SourceContext): AsyncGenerator<Page> {
    const pageSize = Math.max(1, Math.min(config.batch_size, ctx.batchSize));
    const admin = kafka.admin();
    let reader: KafkaReader | undefined;
    try {
      let cluster: string | null;
      let topics: string[];
      try {
        await admin.connect();
        cluster = await retryKafka(() => clusterId(admin), { signal: ctx.signal });
        topics = await retryKafka(() => resolveTopics(admin, sel, where), { signal: ctx.signal });
      } catch (error) {
        throw wrap(error, `looking up ${describeSelection(sel)}`);
      }
      const start = startOffsets(ctx.bookmark, cluster);
      reader = new KafkaReader(kafka, admin, settings(topics), start, ctx.logger, options);
      active = reader;
      try {
        await reader.start();
      } catch (error) {
        throw wrap(error, `joining group "${config.group_id}" to read ${describeSelection(sel)}`);
      }
      ctx.logger.info('kafka: reading', { group_id: config.group_id, topics, resumed: start.size });
      const last = yield* readPages(reader, ctx, {
        cluster,
        pageSize,
        idleMs,
        maxMessages: config.max_messages,
        formats: config,
        where,
        what: describeSelection(sel),
        wrap,
      });
      // Ending on our own terms: let the engine store (and us commit) the last page first.
      if (last !== undefined && ctx.durableState && config.commit_offsets) {
        await stored.waitFor(last, FINAL_ACK_WAIT_MS, ctx.signal);
      }
    } finally {
      active = undefined;
      await reader?.stop();
      await admin.disconnect().catch(() => {});
    }
  }

  return {
    read,
    onCheckpoint(bookmark: JsonValue) {
      stored.stored(JSON.stringify(bookmark));
      if (!config.commit_offsets || !active) return;
      // Not awaited: commits run behind the pages (coalesced), and the read's end waits for the last.
      void active.commit([...parseBookmark(bookmark, null).values()]);
    },
    async check() {
      await withAdmin(`checking the brokers, the topics and group "${config.group_id}"`, async (admin) => {
        const topics = await resolveTopics(admin, sel, where);
        // Describing the group and the topics' offsets exercises the group and topic ACLs.
        await retryKafka(() => partitionLag(admin, config.group_id, topics));
      });
    },
    async status() {
      return withAdmin('reading the group lag', async (admin) =>
        retryKafka(async () => partitionLag(admin, config.group_id, await resolveTopics(admin, sel, where))),
      );
    },
    async discover() {
      return withAdmin('listing the topics', async (admin) => {
        const topics = await resolveTopics(admin, sel, where);
        const metadata = await admin.fetchTopicMetadata({ topics });
        return metadata.topics.map((t) => discovered(t.name, t.partitions.map((p) => p.partitionId).sort()));
      });
    },
    async close() {
      await active?.stop();
    },
  };
}

function discovered(topic: string, partitions: number[]): DiscoveredStream {
  return {
    name: topic,
    primaryKeys: ['topic', 'partition', 'offset'],
    cursorFields: ['offset'],
    schema: {
      type: 'object',
      properties: {
        topic: { const: topic },
        partition: { type: 'integer', enum: partitions },
        offset: { type: 'integer' },
        key: {},
        value: {},
        timestamp: { type: 'integer', description: 'milliseconds since the epoch' },
        headers: { type: 'object', additionalProperties: { type: ['string', 'array'] } },
      },
      required: ['topic', 'partition', 'offset', 'key', 'value', 'timestamp', 'headers'],
    },
  };
}
