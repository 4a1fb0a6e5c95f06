/**
 * The @faucet/testkit battery against the real Kafka broker of scripts/services.sh. The dataset's
 * records are produced as JSON values (keyed by their `key` field) to a 3-partition topic in small
 * producer batches, and matched by the message key. Each read joins a fresh consumer group: the
 * bookmark alone decides where a read starts. Small fetches and a small queue make the streaming
 * rule observable (the first page comes before every message was fetched).
 */

import kafkaSource, { createKafkaSource } from '@faucet/source-kafka';
import { createTopic, deleteTopics, kafkaSasl, produce, uniqueName, withKafka } from '@faucet/test-support';
import { defaultRecord, instantiate, testSource } from '@faucet/testkit';
import { afterAll } from 'vitest';

const password = 'pw-Secret-4711';
const closedPort = {
  brokers: '127.0.0.1:1',
  topics: ['conformance'],
  group_id: 'conformance',
  auth: { type: 'sasl_plain', username: 'faucet', password },
  connect_timeout_ms: 1000,
};
const topic = uniqueName('source-conformance');
let served = 0;

withKafka('with Kafka', (brokers) => {
  afterAll(() => deleteTopics(brokers, [topic]));
  const sasl = kafkaSasl();
  testSource({
    name: 'kafka',
    descriptor: kafkaSource,
    config: {
      valid: closedPort,
      invalid: { value: { ...closedPort, topic_pattern: 'a.*' }, path: 'topics' },
    },
    dataset: { key: 'key', record: (i) => ({ ...defaultRecord(i), key: `k${i + 1}` }) },
    seed: async (records) => {
      await createTopic(brokers, topic, 3);
      const messages = records.map((r) => ({ key: r.key as string, value: JSON.stringify(r) }));
      // Small producer batches: a fetch returns whole record batches, so these keep fetches small.
      for (let i = 0; i < messages.length; i += 5) await produce(brokers, topic, messages.slice(i, i + 5));
    },
    create: () =>
      createKafkaSource(
        {
          brokers,
          topics: [topic],
          group_id: uniqueName('conformance'),
          auto_offset_reset: 'earliest',
          idle_timeout: '1s',
          max_bytes_per_partition: 256,
          max_buffered_messages: 20,
        },
        {
          onFetch: (messages) => {
            served += messages;
          },
        },
      ),
    capabilities: {
      bookmarks: 'every-page',
      streaming: { served: () => served },
      unreachable: {
        create: () => instantiate(kafkaSource, closedPort),
        host: '127.0.0.1',
        port: 1,
        password,
      },
      ...(sasl
        ? {
            secrets: {
              config: {
                brokers: sasl.broker,
                topics: [topic],
                group_id: 'conformance-secrets',
                auth: { type: 'sasl_scram', username: sasl.user, password },
              },
              secretValue: password,
            },
          }
        : {}),
    },
    timeoutMs: 120_000,
  });
});
