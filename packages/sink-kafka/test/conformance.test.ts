/**
 * The @faucet/testkit battery against the real Kafka broker of scripts/services.sh, plain
 * (idempotent producer, at-least-once) and effectively-once (transactions). reset() moves the sink
 * to a fresh topic and a fresh commit-token topic (Kafka topics are not truncated); read() reads the
 * topic back read_committed and parses the values.
 */
import type { FaucetRecord } from '@faucet/core';
import kafkaSink from '@faucet/sink-kafka';
import { createTopic, deleteTopics, kafkaSasl, readTopic, uniqueName, withKafka } from '@faucet/test-support';
import { instantiate, testSink } from '@faucet/testkit';
import { afterAll } from 'vitest';

const password = 'pw-Secret-4711';
const closedPort = {
  brokers: '127.0.0.1:1',
  topic: 'conformance',
  auth: { type: 'sasl_scram', username: 'faucet', password },
  connect_timeout_ms: 1000,
};

withKafka('with Kafka', (brokers) => {
  const made: string[] = [];
  afterAll(() => deleteTopics(brokers, made));
  const sasl = kafkaSasl();
  let topic = '';
  let tokens = '';
  const config = () => ({
    brokers,
    topic,
    key_path: 'id',
    commit_token_topic: tokens,
  });
  testSink({
    name: 'kafka',
    descriptor: kafkaSink,
    config: {
      valid: closedPort,
      invalid: { value: { ...closedPort, acks: 1 }, path: 'acks' },
    },
    create: () => instantiate(kafkaSink, config()),
    reset: async () => {
      topic = uniqueName('sink-conformance');
      tokens = uniqueName('sink-conformance-tokens');
      made.push(topic, tokens);
      await createTopic(brokers, topic, 3);
    },
    capabilities: {
      read: async () =>
        (await readTopic(brokers, topic)).map((m) => JSON.parse(m.value as string) as FaucetRecord),
      effectivelyOnce: true,
      // Larger than the topic's max.message.bytes (1 MiB by default): refused before it is sent.
      rowFailures: { badRecord: (i) => ({ id: `too-large-${i}`, blob: 'x'.repeat(1_100_000) }) },
      unreachable: {
        create: () => instantiate(kafkaSink, closedPort),
        host: '127.0.0.1',
        port: 1,
        password,
      },
      ...(sasl
        ? {
            secrets: {
              config: {
                brokers: sasl.broker,
                topic: 'conformance',
                auth: { type: 'sasl_plain', username: sasl.user, password },
              },
              secretValue: password,
            },
          }
        : {}),
    },
    timeoutMs: 180_000,
  });
});
