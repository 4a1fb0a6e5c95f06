#!/usr/bin/env node
/**
 * What kafkajs's idempotent producer itself costs per 1,000 messages of ~200 bytes, on the broker of
 * `scripts/services.sh` (FAUCET_TEST_KAFKA_BROKERS), as @faucet/sink-kafka calls it:
 *
 *   pnpm build && bash scripts/services.sh start kafka && eval "$(bash scripts/services.sh env)" &&
 *   node bench/kafkajs-producer.mjs [--rounds 6] [--sends 50] [--json]
 *
 * No faucet code runs: the messages are built once, then sent in --sends sends per round, the shapes
 * interleaved round by round, and each shape's process CPU time (user + system) and wall time per
 * 1,000 messages are summed over the rounds. The shapes:
 *
 * - `one-partition`: one send of 1,000 messages to one partition: the sink's unkeyed write (a write's
 *   unkeyed messages all go to one partition, chosen anew per write);
 * - `per-partition`: one send per partition of a third each, one after the other: the sink's keyed
 *   write (each partition is its own request, so a refusal is known per partition);
 * - `spread`: one send of 1,000 messages over the three partitions (kafkajs's DefaultPartitioner
 *   with no key), as bench/kafka.mjs's kafkajs baseline sends them.
 *
 * It also times kafkajs's `groupMessagesPerPartition` alone (the step that sorts a send's messages by
 * partition) for 1,000 messages to one partition and for 333: it copies each partition's array for
 * every message it adds, so its cost grows with the square of the messages per partition and send.
 *
 * This is the ceiling the JSONL -> Kafka scenario runs into: the client's CPU per message, on a
 * machine whose other core runs the broker.
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    sends: { type: 'string', default: '50' },
    brokers: { type: 'string', default: process.env.FAUCET_TEST_KAFKA_BROKERS },
    json: { type: 'boolean', default: false },
  },
});
if (!values.brokers) {
  console.error(
    'FAUCET_TEST_KAFKA_BROKERS is not set: run `bash scripts/services.sh start kafka` and `eval "$(bash scripts/services.sh env)"`',
  );
  process.exit(2);
}
const rounds = Number(values.rounds);
const sends = Number(values.sends);
const MESSAGES = 1000;
const PARTITIONS = 3;

const require = createRequire(import.meta.url);
const { Kafka, logLevel, Partitioners } = require('kafkajs');
// Not part of kafkajs's API: resolved through its package folder, only to time the step alone.
const groupMessagesPerPartition = require(
  require.resolve('kafkajs').replace(/index\.js$/, 'src/producer/groupMessagesPerPartition.js'),
);

/** About 200 bytes of JSON, the shape of bench/kafka.mjs's dataset. */
function value(id) {
  return Buffer.from(
    JSON.stringify({
      id,
      first_name: 'Alice',
      country: 'DE',
      amount: 1234.56,
      created_at: new Date(1_700_000_000_000 + id * 1000).toISOString(),
      active: id % 3 !== 0,
      attributes: { tier: 'gold', score: 0.512 },
      note: `order ${id} of the seeded benchmark dataset`,
    }),
  );
}

function shapes(producer, topic) {
  const bodies = Array.from({ length: MESSAGES }, (_, i) => value(i + 1));
  const onePartition = bodies.map((v) => ({ key: null, value: v, partition: 0 }));
  const thirds = Array.from({ length: PARTITIONS }, (_, p) =>
    bodies.filter((_, i) => i % PARTITIONS === p).map((v) => ({ key: null, value: v, partition: p })),
  );
  const spread = bodies.map((v) => ({ key: null, value: v }));
  return {
    'one-partition': () => producer.send({ topic, acks: -1, messages: onePartition }),
    'per-partition': async () => {
      for (const messages of thirds) await producer.send({ topic, acks: -1, messages });
    },
    spread: () => producer.send({ topic, acks: -1, messages: spread }),
  };
}

function timeGrouping(perPartition) {
  const partitionMetadata = Array.from({ length: PARTITIONS }, (_, i) => ({ partitionId: i }));
  const messages = Array.from({ length: perPartition }, (_, i) => ({ value: value(i), partition: 0 }));
  const partitioner = ({ message }) => message.partition;
  const call = () => groupMessagesPerPartition({ topic: 't', partitionMetadata, messages, partitioner });
  for (let i = 0; i < 50; i++) call();
  const runs = 500;
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) call();
  return Number(process.hrtime.bigint() - start) / 1e6 / runs;
}

async function main() {
  const kafka = new Kafka({ brokers: [values.brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `faucet-bench-producer-${Date.now()}`;
  const { createTopicAndWait } = await import('@faucet/common-kafka');
  await createTopicAndWait(admin, { topic, numPartitions: PARTITIONS });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const loadBefore = loadavg().map((l) => Math.round(l * 10) / 10);
  try {
    const send = shapes(producer, topic);
    for (const fn of Object.values(send)) for (let i = 0; i < 20; i++) await fn();
    const totals = Object.fromEntries(Object.keys(send).map((k) => [k, { cpuMs: 0, wallMs: 0 }]));
    for (let r = 0; r < rounds; r++) {
      for (const [name, fn] of Object.entries(send)) {
        const cpu = process.cpuUsage();
        const start = process.hrtime.bigint();
        for (let i = 0; i < sends; i++) await fn();
        totals[name].wallMs += Number(process.hrtime.bigint() - start) / 1e6;
        const used = process.cpuUsage(cpu);
        totals[name].cpuMs += (used.user + used.system) / 1000;
      }
    }
    const per1000 = Object.fromEntries(
      Object.entries(totals).map(([name, t]) => [
        name,
        {
          cpuMs: Math.round((t.cpuMs / (rounds * sends)) * 100) / 100,
          wallMs: Math.round((t.wallMs / (rounds * sends)) * 100) / 100,
          ceilingMsgPerSec: Math.round((MESSAGES / t.cpuMs) * rounds * sends * 1000),
        },
      ]),
    );
    const summary = {
      scenario: 'kafkajs 2.2.4 idempotent producer, acks all, per 1,000 messages of ~200 bytes',
      rounds,
      sendsPerRound: sends,
      loadBefore,
      loadAfter: loadavg().map((l) => Math.round(l * 10) / 10),
      per1000,
      groupMessagesPerPartitionMs: {
        '1000 to one partition': Math.round(timeGrouping(1000) * 1000) / 1000,
        '333 to one partition': Math.round(timeGrouping(333) * 1000) / 1000,
      },
    };
    console.log(values.json ? JSON.stringify(summary) : JSON.stringify(summary, null, 2));
  } finally {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
}

await main();
