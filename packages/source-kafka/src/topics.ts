/**
 * What the admin client tells the source: which topics it reads (names checked, or a pattern
 * matched), the cluster id its bookmark belongs to, and each partition's lag for `status()`.
 */
import { type JsonObject, SourceError } from '@faucet/core';
import type { Admin } from 'kafkajs';

/** Topics whose names start with `__` are Kafka's own (offsets, transactions): never read by a pattern. */
const INTERNAL = /^__/;

export type TopicSelection = { names: string[] } | { pattern: RegExp };

export function selection(topics: string[] | undefined, pattern: string | undefined): TopicSelection {
  return topics ? { names: topics } : { pattern: new RegExp(pattern as string) };
}

export function selects(sel: TopicSelection, topic: string): boolean {
  return 'names' in sel ? sel.names.includes(topic) : !INTERNAL.test(topic) && sel.pattern.test(topic);
}

export function describeSelection(sel: TopicSelection): string {
  return 'names' in sel
    ? sel.names.map((t) => JSON.stringify(t)).join(', ')
    : `the topics matching /${sel.pattern.source}/`;
}

/** The topics to read, in name order; fails naming every configured topic that does not exist. */
export async function resolveTopics(admin: Admin, sel: TopicSelection, where: string): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  if ('names' in sel) {
    const missing = sel.names.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      throw new SourceError(
        `${where}: topic${missing.length > 1 ? 's' : ''} ${missing.map((t) => JSON.stringify(t)).join(', ')} ` +
          'does not exist (or this user may not describe it)',
        { connector: 'kafka', code: 'SOURCE_TOPIC_NOT_FOUND' },
      );
    }
    return [...sel.names];
  }
  const matched = [...existing].filter((t) => selects(sel, t)).sort();
  if (matched.length === 0) {
    throw new SourceError(`${where}: no topic matches topic_pattern /${sel.pattern.source}/`, {
      connector: 'kafka',
      code: 'SOURCE_TOPIC_NOT_FOUND',
    });
  }
  return matched;
}

/** The cluster id (the bookmark names it), or null when the brokers do not say. */
export async function clusterId(admin: Admin): Promise<string | null> {
  const cluster = await admin.describeCluster();
  return typeof cluster.clusterId === 'string' && cluster.clusterId !== '' ? cluster.clusterId : null;
}

/** Per partition: the group's committed offset, the high watermark and the lag between them. */
export async function partitionLag(admin: Admin, groupId: string, topics: string[]): Promise<JsonObject> {
  const committed = await admin.fetchOffsets({ groupId, topics });
  const partitions: JsonObject[] = [];
  let total = 0;
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const group = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const end of [...ends].sort((a, b) => a.partition - b.partition)) {
      const high = Number(end.high);
      const low = Number(end.low);
      const offset = Number(group.find((g) => g.partition === end.partition)?.offset ?? -1);
      const lag = offset >= 0 ? Math.max(0, high - offset) : Math.max(0, high - low);
      total += lag;
      partitions.push({
        topic,
        partition: end.partition,
        committed: offset >= 0 ? offset : null,
        high_watermark: high,
        lag,
      });
    }
  }
  return { group_id: groupId, total_lag: total, partitions };
}
