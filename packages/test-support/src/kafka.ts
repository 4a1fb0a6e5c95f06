/**
 * The Kafka broker of `scripts/services.sh` (FAUCET_TEST_KAFKA_BROKERS), and what tests do with it:
 * topics of their own, producing test messages, and reading a topic back to its end.
 */
import { randomBytes } from 'node:crypto';
import { createTopicAndWait } from '@faucet/common-kafka';
import { describeWithService, type ServiceSpec } from '@faucet/testkit';
import { type Admin, CompressionTypes, Kafka, type KafkaMessage, logLevel, Partitioners } from 'kafkajs';

export const KAFKA_SERVICE: ServiceSpec = {
  service: 'Kafka',
  variable: 'FAUCET_TEST_KAFKA_BROKERS',
  hint: 'run `bash scripts/services.sh start kafka && eval "$(bash scripts/services.sh env)"` at the repository root',
};

/** `describe(title, …)` with the broker list, or a failing / skipped stand-in when there is none. */
export function withKafka(title: string, register: (brokers: string) => void): void {
  describeWithService(KAFKA_SERVICE, title, register);
}

/** The SASL listener of the test broker: `{user, password, broker}` from FAUCET_TEST_KAFKA_SASL. */
export function kafkaSasl(): { user: string; password: string; broker: string } | undefined {
  const value = process.env.FAUCET_TEST_KAFKA_SASL;
  const match = value ? /^([^:]+):([^@]+)@(.+)$/.exec(value) : null;
  return match
    ? { user: match[1] as string, password: match[2] as string, broker: match[3] as string }
    : undefined;
}

/** The TLS listener of the test broker (FAUCET_TEST_KAFKA_TLS) and the PEM file of its certificate. */
export function kafkaTls(): { broker: string; caFile: string } | undefined {
  const broker = process.env.FAUCET_TEST_KAFKA_TLS;
  const caFile = process.env.FAUCET_TEST_KAFKA_TLS_CA;
  return broker && caFile ? { broker, caFile } : undefined;
}

/** A name of the test's own: `<prefix>-<hex>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function testKafka(brokers: string): Kafka {
  return new Kafka({ clientId: 'faucet-tests', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
}

export async function withAdmin<T>(brokers: string, run: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    return await run(admin);
  } finally {
    await admin.disconnect();
  }
}

export async function createTopic(
  brokers: string,
  topic: string,
  partitions = 1,
  configEntries: { name: string; value: string }[] = [],
): Promise<void> {
  await withAdmin(brokers, (admin) =>
    createTopicAndWait(admin, { topic, numPartitions: partitions, configEntries }),
  );
}

export async function deleteTopics(brokers: string, topics: string[]): Promise<void> {
  await withAdmin(brokers, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const mine = topics.filter((t) => existing.has(t));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  }).catch(() => {});
}

export interface TestMessage {
  key?: string | null;
  value: string | Buffer | null;
  partition?: number;
  headers?: Record<string, string>;
}

/** Produce messages (acks all), in batches of 1,000. */
export async function produce(
  brokers: string,
  topic: string,
  messages: readonly TestMessage[],
): Promise<void> {
  // Idempotent: kafkajs retries a whole produce request when one partition of it failed (a topic just
  // created: a partition whose leader is not ready yet), which without producer ids and sequence
  // numbers writes the messages of the partitions that had succeeded twice. A seed must hold each
  // message once.
  const producer = testKafka(brokers).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 1000) {
      await producer.send({
        topic,
        acks: -1,
        compression: CompressionTypes.None,
        messages: messages.slice(i, i + 1000).map((m) => ({
          key: m.key ?? null,
          value: m.value,
          ...(m.partition === undefined ? {} : { partition: m.partition }),
          ...(m.headers ? { headers: m.headers } : {}),
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

export interface ReadMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Every message of a topic (read_committed unless told otherwise), up to the end offsets it has when
 * called. A throw-away consumer group; waits at most `timeoutMs`.
 */
export async function readTopic(
  brokers: string,
  topic: string,
  options: { readUncommitted?: boolean; timeoutMs?: number } = {},
): Promise<ReadMessage[]> {
  const kafka = testKafka(brokers);
  const ends = await withAdmin(brokers, (admin) => admin.fetchTopicOffsets(topic));
  const target = new Map(ends.map((e) => [e.partition, Number(e.high)]));
  const position = new Map(ends.map((e) => [e.partition, Number(e.low)]));
  const done = () => [...target].every(([p, end]) => (position.get(p) ?? 0) >= end);
  const out: ReadMessage[] = [];
  if (done()) return out;
  const consumer = kafka.consumer({
    groupId: uniqueName('faucet-test-reader'),
    readUncommitted: options.readUncommitted ?? false,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const advance = (partition: number, lastOffset: string) => {
      position.set(partition, Math.max(position.get(partition) ?? 0, Number(lastOffset) + 1));
      if (done()) finish();
    };
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
      advance(payload.partition, payload.lastOffset),
    );
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) out.push(toRead(topic, batch.partition, m));
      },
    });
    const timeoutMs = options.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      finished,
      new Promise<void>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`reading ${topic} did not reach its end offsets within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
  }
  return out;
}

function toRead(topic: string, partition: number, m: KafkaMessage): ReadMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = String(v);
  return {
    topic,
    partition,
    offset: Number(m.offset),
    key: m.key === null ? null : m.key.toString('utf8'),
    value: m.value === null ? null : m.value.toString('utf8'),
    headers,
  };
}

/** The group's committed offsets of a topic, by partition (-1 when none). */
export async function committedOffsets(
  brokers: string,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  const result = await withAdmin(brokers, (admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
  const partitions = result.find((r) => r.topic === topic)?.partitions ?? [];
  return new Map(partitions.map((p) => [p.partition, Number(p.offset)]));
}
