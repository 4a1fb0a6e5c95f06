/**
 * Effectively-once commit tokens on a compacted topic (`__faucet_commit_tokens` by default): each
 * transaction that writes a page also writes `key = state key, value = token` there, so the rows and
 * the token become visible together or not at all. Reading the last token back means reading that
 * topic, read_committed, up to the end offsets it had when the read began; compaction keeps it small
 * (one message per state key, plus what was written since the last clean-up).
 *
 * The caller fences first (initialising its transactional producer aborts a transaction a crashed
 * run left open under the same id), so the last token of its own state key is never pending.
 */
import { randomUUID } from 'node:crypto';
import { createTopicAndWait } from '@faucet/common-kafka';
import type { Admin, Kafka } from 'kafkajs';

/** Topic settings: compacted, and segments rolled often enough that the clean-up keeps up. */
export const TOKEN_TOPIC_CONFIG = [
  { name: 'cleanup.policy', value: 'compact' },
  { name: 'segment.ms', value: '600000' },
  { name: 'min.cleanable.dirty.ratio', value: '0.1' },
];

/** Create the token topic (one partition, compacted) unless it exists. */
export async function ensureTokenTopic(admin: Admin, topic: string): Promise<void> {
  if ((await admin.listTopics()).includes(topic)) return;
  await createTopicAndWait(admin, {
    topic,
    numPartitions: 1,
    replicationFactor: -1,
    configEntries: TOKEN_TOPIC_CONFIG,
  });
}

export class TokenReadTimeout extends Error {}

/**
 * The last token written for `scope` (read_committed), or undefined. Reads with a throw-away group
 * that commits nothing.
 */
export async function readLastToken(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  scope: string,
  timeoutMs: number,
): Promise<string | undefined> {
  const ends = await admin.fetchTopicOffsets(topic);
  const target = new Map(ends.map((e) => [e.partition, Number(e.high)]));
  const position = new Map(ends.map((e) => [e.partition, Number(e.low)]));
  const done = () => [...target].every(([p, end]) => (position.get(p) ?? 0) >= end);
  if (done()) return undefined;
  let last: string | undefined;
  const consumer = kafka.consumer({
    groupId: `faucet-token-reader-${randomUUID()}`,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
    retry: { retries: 5, restartOnFailure: async () => false },
  });
  let finish: () => void = () => {};
  let crash: (error: unknown) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    crash = reject;
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    position.set(
      payload.partition,
      Math.max(position.get(payload.partition) ?? 0, Number(payload.lastOffset) + 1),
    );
    if (done()) finish();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => crash(payload.error));
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          if (message.key?.toString('utf8') === scope) last = message.value?.toString('utf8') ?? undefined;
        }
      },
    });
    await Promise.race([
      finished,
      new Promise<void>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new TokenReadTimeout(
                `could not read topic "${topic}" to its end within ${Math.round(timeoutMs / 1000)} s ` +
                  '(a transaction of another run still open?)',
              ),
            ),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
  }
  return last;
}
