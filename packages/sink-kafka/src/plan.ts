/**
 * Where each message goes and in which request. Partitions are chosen here, not by kafkajs, so the
 * sink knows them before sending: keyed messages by murmur2 of the key (kafkajs's DefaultPartitioner,
 * the Java client's rule), unkeyed ones all to one partition per write and topic (sticky, so a write
 * touches few partitions), named ones as named. Messages that cannot be sent at all (unknown topic,
 * a partition the topic lacks, too large, no key on a compacted topic) are failures of their rows.
 *
 * A partition's messages are cut into chunks that each fit max.message.bytes (a record batch is
 * limited as a whole, and kafkajs sends one batch per partition per request); round r holds the r-th
 * chunk of every partition, so chunks of one partition go out in order, one request apart.
 */
import { type PartitionerArgs, Partitioners } from 'kafkajs';
import { type Outgoing, RowProblem } from './prepare.js';
import type { TopicInfo } from './topics.js';

/** Bytes of a record batch beyond its records (header, CRC, producer id and epoch, …), generously. */
const BATCH_OVERHEAD = 128;

export interface PartitionChunk {
  topic: string;
  partition: number;
  messages: Outgoing[];
}

export interface SendPlan {
  rounds: PartitionChunk[][];
  failures: { index: number; error: RowProblem }[];
}

export class Planner {
  private readonly keyed = Partitioners.DefaultPartitioner();
  private sticky = 0;

  constructor(private readonly maxMessageBytes: number | undefined) {}

  limitOf(info: TopicInfo): number {
    return this.maxMessageBytes ?? info.maxMessageBytes;
  }

  plan(messages: readonly Outgoing[], topics: ReadonlyMap<string, TopicInfo>): SendPlan {
    const failures: { index: number; error: RowProblem }[] = [];
    const groups = new Map<string, PartitionChunk & { limit: number }>();
    const stickyFor = new Map<string, number>();
    this.sticky++;
    for (const message of messages) {
      const info = topics.get(message.topic);
      if (!info) {
        failures.push({
          index: message.index,
          error: new RowProblem(`topic "${message.topic}" does not exist`),
        });
        continue;
      }
      const limit = this.limitOf(info);
      const problem = this.problem(message, info, limit);
      if (problem) {
        failures.push({ index: message.index, error: new RowProblem(problem) });
        continue;
      }
      let partition = message.partition;
      if (partition === undefined && message.key !== null) {
        partition = this.keyed({
          topic: info.name,
          partitionMetadata: info.partitions,
          message: { key: message.key, value: message.value },
        } as PartitionerArgs);
      }
      if (partition === undefined) {
        partition = stickyFor.get(info.name);
        if (partition === undefined) {
          partition = (info.partitions[this.sticky % info.partitions.length]?.partitionId ?? 0) as number;
          stickyFor.set(info.name, partition);
        }
      }
      const key = `${info.name}:${partition}`;
      let group = groups.get(key);
      if (!group) {
        group = { topic: info.name, partition, messages: [], limit };
        groups.set(key, group);
      }
      group.messages.push(message);
    }
    const rounds: PartitionChunk[][] = [];
    for (const group of groups.values()) {
      chunk(group.messages, group.limit).forEach((messages, r) => {
        rounds[r] ??= [];
        (rounds[r] as PartitionChunk[]).push({ topic: group.topic, partition: group.partition, messages });
      });
    }
    return { rounds, failures };
  }

  private problem(message: Outgoing, info: TopicInfo, limit: number): string | undefined {
    if (
      message.partition !== undefined &&
      !info.partitions.some((p) => p.partitionId === message.partition)
    ) {
      return `topic "${info.name}" has no partition ${message.partition} (it has ${info.partitions.length})`;
    }
    if (message.size + BATCH_OVERHEAD > limit) {
      return `the message is about ${message.size} bytes, more than the ${limit} bytes topic "${info.name}" takes (max.message.bytes)`;
    }
    if (info.compacted && message.key === null) {
      return `topic "${info.name}" is compacted, and a message without a key cannot go there (set key_path)`;
    }
    return undefined;
  }
}

function chunk(messages: Outgoing[], limit: number): Outgoing[][] {
  const out: Outgoing[][] = [];
  let current: Outgoing[] = [];
  let bytes = BATCH_OVERHEAD;
  for (const message of messages) {
    if (current.length > 0 && bytes + message.size > limit) {
      out.push(current);
      current = [];
      bytes = BATCH_OVERHEAD;
    }
    current.push(message);
    bytes += message.size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
