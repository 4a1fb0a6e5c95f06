/**
 * What the sink must know of a topic before it sends: whether it exists, its partitions (to choose
 * one per message as the Java client does) and its limits (max.message.bytes, and whether it is
 * compacted, where a message needs a key). Looked up once per topic and kept.
 */
import type { Admin, PartitionMetadata } from 'kafkajs';

export interface TopicInfo {
  name: string;
  partitions: PartitionMetadata[];
  maxMessageBytes: number;
  compacted: boolean;
}

/** The broker default of max.message.bytes, when the topic's config cannot be read. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
const TOPIC_RESOURCE = 2;

export class TopicCatalog {
  private readonly known = new Map<string, TopicInfo>();

  constructor(
    private readonly admin: () => Promise<Admin>,
    private readonly onConfigUnreadable: (topic: string, error: unknown) => void,
  ) {}

  /** The topics of `names` that exist (unknown ones are absent from the result). */
  async lookup(names: Iterable<string>): Promise<Map<string, TopicInfo>> {
    const out = new Map<string, TopicInfo>();
    const missing: string[] = [];
    for (const name of new Set(names)) {
      const info = this.known.get(name);
      if (info) out.set(name, info);
      else missing.push(name);
    }
    if (missing.length === 0) return out;
    const admin = await this.admin();
    const existing = new Set(await admin.listTopics());
    const found = missing.filter((t) => existing.has(t));
    if (found.length === 0) return out;
    const metadata = await admin.fetchTopicMetadata({ topics: found });
    const configs = await this.readConfigs(admin, found);
    for (const topic of metadata.topics) {
      const entries = configs.get(topic.name);
      const info: TopicInfo = {
        name: topic.name,
        partitions: [...topic.partitions].sort((a, b) => a.partitionId - b.partitionId),
        maxMessageBytes: Number(entries?.get('max.message.bytes') ?? DEFAULT_MAX_MESSAGE_BYTES),
        compacted: (entries?.get('cleanup.policy') ?? 'delete').split(',').includes('compact'),
      };
      this.known.set(topic.name, info);
      out.set(topic.name, info);
    }
    return out;
  }

  private async readConfigs(admin: Admin, topics: string[]): Promise<Map<string, Map<string, string>>> {
    const out = new Map<string, Map<string, string>>();
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({
          type: TOPIC_RESOURCE,
          name,
          configNames: ['max.message.bytes', 'cleanup.policy'],
        })),
      });
      for (const resource of described.resources) {
        out.set(
          resource.resourceName,
          new Map(resource.configEntries.map((e) => [e.configName, e.configValue])),
        );
      }
    } catch (error) {
      // No DescribeConfigs permission: fall back to the broker defaults (the broker still enforces its own).
      for (const topic of topics) this.onConfigUnreadable(topic, error);
    }
    return out;
  }

  forget(topic: string): void {
    this.known.delete(topic);
  }
}
