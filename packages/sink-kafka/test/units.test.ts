/** The kafka sink's pieces without a broker: config rules, records as messages, partitions and chunks. */
import { kafkaSinkConfigSchema } from '@faucet/sink-kafka';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { Planner } from '../src/plan.js';
import { prepareMessages } from '../src/prepare.js';
import type { TopicInfo } from '../src/topics.js';

const config = (extra: Record<string, unknown> = {}) =>
  kafkaSinkConfigSchema.parse({ brokers: 'h:9092', topic: 'out', ...extra });

const info = (name: string, partitions: number, extra: Partial<TopicInfo> = {}): TopicInfo => ({
  name,
  partitions: Array.from({ length: partitions }, (_, i) => ({
    partitionId: i,
    leader: 1,
    replicas: [1],
    isr: [1],
    offlineReplicas: [],
    partitionErrorCode: 0,
  })),
  maxMessageBytes: 1_048_588,
  compacted: false,
  ...extra,
});

describe('config', () => {
  it('defaults: acks all, idempotent, no compression, tokens on __faucet_commit_tokens', () => {
    expect(config()).toMatchObject({
      acks: 'all',
      idempotent: true,
      compression: 'none',
      value_format: 'json',
      key_format: 'string',
      transactional_id_prefix: 'faucet',
      commit_token_topic: '__faucet_commit_tokens',
      batch_size: 1000,
    });
    const acks = kafkaSinkConfigSchema.safeParse({ brokers: 'h:1', topic: 't', acks: 1 });
    expect(acks.error?.issues[0]).toMatchObject({ path: ['acks'] });
    expect(
      kafkaSinkConfigSchema.safeParse({ brokers: 'h:1', topic: 't', acks: 1, idempotent: false }).success,
    ).toBe(true);
    expect(kafkaSinkConfigSchema.safeParse({ brokers: 'h:1', topic: 'bad topic' }).success).toBe(false);
    expect(
      kafkaSinkConfigSchema.safeParse({ brokers: 'h:1', topic: { type: 'from_path', path: 'dest' } }).success,
    ).toBe(true);
  });
});

describe('records as messages', () => {
  it('the value is the record (JSON) unless value_path names a field; keys and headers from paths', () => {
    const { messages, failures } = prepareMessages(
      [{ id: 7, body: { a: 1 }, h: { x: 'y', n: 2, list: ['a', 1] } }],
      config({ key_path: 'id', headers_path: 'h' }),
    );
    expect(failures).toEqual([]);
    expect(messages[0]?.key?.toString()).toBe('7');
    expect(JSON.parse(messages[0]?.value?.toString() ?? '')).toEqual({
      id: 7,
      body: { a: 1 },
      h: { x: 'y', n: 2, list: ['a', 1] },
    });
    expect(messages[0]?.headers).toEqual({ x: 'y', n: '2', list: ['a', '1'] });
    const tombstone = prepareMessages(
      [{ id: 1, body: null }],
      config({ key_path: 'id', value_path: 'body' }),
    );
    expect(tombstone.messages[0]?.value).toBeNull();
  });

  it('formats: string needs text, bytes needs base64; problems are failures of their rows', () => {
    const { messages, failures } = prepareMessages(
      [{ v: 'AP8=' }, { v: 'not base64!' }, { v: { o: 1 } }],
      config({ value_path: 'v', value_format: 'bytes' }),
    );
    expect([...(messages[0]?.value ?? [])]).toEqual([0, 255]);
    expect(failures.map((f) => [f.index, f.error.message])).toEqual([
      [1, 'the value is not base64 text (value_format: bytes)'],
      [2, 'the value is not base64 text (value_format: bytes)'],
    ]);
    const text = prepareMessages([{ v: 3 }], config({ value_path: 'v', value_format: 'string' }));
    expect(text.failures[0]?.error.message).toBe('the value is a number, not text (value_format: string)');
    const partition = prepareMessages([{ p: 'x' }], config({ partition_path: 'p' }));
    expect(partition.failures[0]?.error.message).toBe('the partition field "p" is not a partition number');
  });
});

describe('partitions and chunks', () => {
  const topics = new Map([['out', info('out', 3)]]);

  it('keyed messages go where the Java client puts them (murmur2); unkeyed ones stick to one partition per write', () => {
    const records = Array.from({ length: 30 }, (_, i) => ({ id: `key-${i}` }));
    const plan = new Planner(undefined).plan(
      prepareMessages(records, config({ key_path: 'id' })).messages,
      topics,
    );
    const javaRule = Partitioners.DefaultPartitioner();
    for (const round of plan.rounds) {
      for (const chunk of round) {
        for (const m of chunk.messages) {
          const expected = javaRule({
            topic: 'out',
            partitionMetadata: info('out', 3).partitions,
            message: { key: m.key, value: m.value },
          });
          expect(chunk.partition).toBe(expected);
        }
      }
    }
    const unkeyed = new Planner(undefined).plan(prepareMessages(records, config()).messages, topics);
    expect(unkeyed.rounds).toHaveLength(1);
    expect(unkeyed.rounds[0]).toHaveLength(1);
  });

  it('cuts a partition into chunks that fit max.message.bytes, in order, one per round', () => {
    const records = Array.from({ length: 100 }, (_, i) => ({ i, pad: 'x'.repeat(100) }));
    const plan = new Planner(2_000).plan(
      prepareMessages(records, config({ partition_path: 'p' })).messages,
      topics,
    );
    expect(plan.rounds.length).toBeGreaterThan(5);
    const order = plan.rounds.flatMap((round) => round.flatMap((c) => c.messages.map((m) => m.index)));
    expect(order).toEqual(records.map((_, i) => i));
    for (const round of plan.rounds) {
      for (const chunk of round)
        expect(chunk.messages.reduce((n, m) => n + m.size, 0)).toBeLessThanOrEqual(2_000);
    }
  });

  it('unknown topics, missing partitions, oversize messages and keyless messages on compacted topics fail their rows', () => {
    const catalog = new Map([
      ['out', info('out', 2)],
      ['compacted', info('compacted', 1, { compacted: true })],
    ]);
    const records = [
      { dest: 'out', p: 1 },
      { dest: 'nowhere' },
      { dest: 'out', p: 5 },
      { dest: 'out', blob: 'x'.repeat(2_000_000) },
      { dest: 'compacted' },
    ];
    const prepared = prepareMessages(
      records,
      config({ topic: { type: 'from_path', path: 'dest' }, partition_path: 'p' }),
    );
    const plan = new Planner(undefined).plan(prepared.messages, catalog);
    expect(plan.failures.map((f) => f.index)).toEqual([1, 2, 3, 4]);
    expect(plan.failures.map((f) => f.error.message)).toEqual([
      'topic "nowhere" does not exist',
      'topic "out" has no partition 5 (it has 2)',
      expect.stringContaining('more than the 1048588 bytes topic "out" takes (max.message.bytes)'),
      'topic "compacted" is compacted, and a message without a key cannot go there (set key_path)',
    ]);
    expect(plan.rounds.flat().map((c) => [c.topic, c.partition, c.messages.length])).toEqual([['out', 1, 1]]);
  });
});
