/**
 * Creating a topic and waiting until every partition has a leader. kafkajs's own `waitForLeaders`
 * retries only LEADER_NOT_AVAILABLE, but a KRaft broker may answer the first metadata request after
 * the creation with UNKNOWN_TOPIC_OR_PARTITION (the new topic not yet in its metadata cache): that is
 * waited out here too.
 */
import type { Admin, ITopicConfig } from 'kafkajs';
import { rootKafkaError } from './errors.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function alreadyExists(error: unknown): boolean {
  if (rootKafkaError(error).type === 'TOPIC_ALREADY_EXISTS') return true;
  const nested = (error as { errors?: { type?: string }[] }).errors;
  return Array.isArray(nested) && nested.length > 0 && nested.every((e) => e.type === 'TOPIC_ALREADY_EXISTS');
}

/** Create the topic (an existing one is fine) and wait until it has leaders, at most `timeoutMs`. */
export async function createTopicAndWait(
  admin: Admin,
  topic: ITopicConfig,
  timeoutMs = 30_000,
): Promise<void> {
  try {
    await admin.createTopics({ topics: [topic], waitForLeaders: false });
  } catch (error) {
    if (!alreadyExists(error)) throw error;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic.topic] });
      const partitions = topics[0]?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return;
    } catch (error) {
      if (rootKafkaError(error).retriable !== true || Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`topic "${topic.topic}" has no leader ${timeoutMs} ms after it was created`);
    await sleep(100);
  }
}
