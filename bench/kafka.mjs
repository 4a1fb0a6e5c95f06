#!/usr/bin/env node
/**
 * Kafka scenarios against the broker of `scripts/services.sh` (FAUCET_TEST_KAFKA_BROKERS):
 *
 *   pnpm build && bash scripts/services.sh start kafka && eval "$(bash scripts/services.sh env)" &&
 *   node bench/kafka.mjs [--messages 1000000] [--runs 3] [--batch 1000] [--partitions 3] [--checkpoint-every <ms>] [--max-buffered <n>] [--cli-v8] [--json]
 *
 * `--cli-v8`: the faucet runs take the V8 settings `faucet run` gives itself (see cliV8Policy).
 *
 * - JSONL -> Kafka: `@faucet/source-file` (jsonl) through runPipeline into `@faucet/sink-kafka`
 *   (idempotent producer, acks all, no compression), with the durable file state store;
 * - Kafka -> JSONL: `@faucet/source-kafka` (a fresh consumer group, read_committed) through
 *   runPipeline into `@faucet/sink-file` (jsonl), with the durable file state store (so the group's
 *   offsets are committed from each stored checkpoint, as in production);
 * - baselines, the same work with kafkajs alone in the same rounds: the JSONL file produced in
 *   batches of --batch (idempotent, acks all), and the topic consumed with eachBatch into a JSONL
 *   file. They show what the client itself reaches on this machine.
 *
 * Messages are the seeded dataset of bench/generate.mjs as JSON (about 200 bytes each), generated
 * once into bench/results/. Each measurement is a fresh child process: messages/s from the start of
 * the run to the last message written, peak RSS that process's max RSS. The four measurements run
 * interleaved, --runs rounds; the summary gives the median messages/s and the max peak RSS, and the
 * load average before and after (the machine is shared: read the figures with it). Before each one
 * the page cache's dirty pages are written back (`sync`), so no measurement pays for the disk writes
 * of the one before it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { COUNTRIES, EPOCH, FIRST_NAMES, prng, TIERS } from './generate.mjs';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    batch: { type: 'string', default: '1000' },
    partitions: { type: 'string', default: '3' },
    'checkpoint-every': { type: 'string', default: '0' },
    'max-buffered': { type: 'string', default: '10000' },
    child: { type: 'string' },
    topic: { type: 'string' },
    data: { type: 'string' },
    brokers: { type: 'string', default: process.env.FAUCET_TEST_KAFKA_BROKERS },
    'cli-v8': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const messages = Number(values.messages);
const batch = Number(values.batch);
const partitions = Number(values.partitions);
/** Milliseconds between stored checkpoints (runPipeline's checkpointEveryMs); 0: every page. */
const checkpointEvery = Number(values['checkpoint-every']);
const brokers = values.brokers;
const self = fileURLToPath(import.meta.url);
const here = dirname(self);

if (!brokers) {
  console.error(
    'FAUCET_TEST_KAFKA_BROKERS is not set: run `bash scripts/services.sh start kafka` and `eval "$(bash scripts/services.sh env)"`',
  );
  process.exit(2);
}

async function kafkajs() {
  return (await import('kafkajs')).default;
}

/** The dataset as JSON lines: about 200 bytes a message. */
async function writeJsonl(path, rows) {
  mkdirSync(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  const random = prng(42);
  let at = EPOCH;
  for (let id = 1; id <= rows; id++) {
    at += 1000 + Math.floor(random() * 89_000);
    const record = {
      id,
      first_name: FIRST_NAMES[Math.floor(random() * FIRST_NAMES.length)],
      country: COUNTRIES[Math.floor(random() * COUNTRIES.length)],
      amount: Math.round((1 + random() * 9999) * 100) / 100,
      created_at: new Date(at).toISOString(),
      active: random() < 0.7,
      attributes: {
        tier: TIERS[Math.floor(random() * TIERS.length)],
        score: Math.round(random() * 1000) / 1000,
      },
      note: `order ${id} of the seeded benchmark dataset`,
    };
    if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Report from a child: messages, seconds, messages/s, peak RSS. */
function report(count, started, lastAt) {
  const seconds = (lastAt - started) / 1000;
  process.stdout.write(
    JSON.stringify({
      messages: count,
      seconds,
      perSec: count / seconds,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

async function faucetToKafka(topic, data) {
  const { createFileStateStore, runPipeline } = await import('@faucet/core');
  const { createFileSource, fileSourceConfigSchema } = await import('@faucet/source-file');
  const { createKafkaSink } = await import('@faucet/sink-kafka');
  const stateDir = mkdtempSync(join(tmpdir(), 'faucet-bench-kafka-state-'));
  try {
    const sink = createKafkaSink({ brokers, topic, batch_size: batch });
    const started = Date.now();
    const result = await runPipeline({
      source: createFileSource(
        fileSourceConfigSchema.parse({ path: data, format: 'jsonl', batch_size: batch }),
      ),
      sink,
      state: createFileStateStore({ path: stateDir }),
      batchSize: batch,
      checkpointEveryMs: checkpointEvery,
    });
    const done = Date.now();
    await sink.close();
    if (result.status !== 'ok' || result.recordsWritten !== messages) {
      throw new Error(
        `run ${result.status}: ${result.error?.message ?? ''} (${result.recordsWritten} written)`,
      );
    }
    report(result.recordsWritten, started, done);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function faucetFromKafka(topic) {
  const { createFileStateStore, runPipeline } = await import('@faucet/core');
  const { createFileSink, fileSinkConfigSchema } = await import('@faucet/sink-file');
  const { createKafkaSource } = await import('@faucet/source-kafka');
  const dir = mkdtempSync(join(tmpdir(), 'faucet-bench-kafka-'));
  try {
    const inner = createFileSink(
      fileSinkConfigSchema.parse({ path: join(dir, 'out.jsonl'), format: 'jsonl' }),
    );
    const controller = new AbortController();
    let written = 0;
    let lastWriteAt = 0;
    const sink = {
      ...inner,
      async write(records, ctx) {
        const result = await inner.write(records, ctx);
        written += records.length;
        lastWriteAt = Date.now();
        if (written >= messages) controller.abort();
        return result;
      },
      flush: () => inner.flush(),
      close: (outcome) => inner.close(outcome),
    };
    const source = createKafkaSource({
      brokers,
      topics: [topic],
      group_id: `faucet-bench-${process.pid}-${Date.now()}`,
      auto_offset_reset: 'earliest',
      idle_timeout: 0,
      batch_size: batch,
      max_buffered_messages: Number(values['max-buffered']),
    });
    const started = Date.now();
    const result = await runPipeline({
      source,
      sink,
      state: createFileStateStore({ path: join(dir, 'state') }),
      batchSize: batch,
      checkpointEveryMs: checkpointEvery,
      signal: controller.signal,
    });
    await sink.close({ status: 'ok' });
    await source.close();
    if (result.status === 'failed' || written < messages) {
      throw new Error(`run ${result.status}: ${result.error?.message ?? ''} (${written} of ${messages})`);
    }
    report(written, started, lastWriteAt);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function baselineToKafka(topic, data) {
  const { Kafka, logLevel, Partitioners } = await kafkajs();
  const producer = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const started = Date.now();
  let count = 0;
  let pending = [];
  for await (const line of createInterface({
    input: createReadStream(data),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    pending.push({ value: line });
    if (pending.length === batch) {
      await producer.send({ topic, acks: -1, messages: pending });
      count += pending.length;
      pending = [];
    }
  }
  if (pending.length > 0) {
    await producer.send({ topic, acks: -1, messages: pending });
    count += pending.length;
  }
  const done = Date.now();
  await producer.disconnect();
  report(count, started, done);
}

async function baselineFromKafka(topic) {
  const { Kafka, logLevel } = await kafkajs();
  const dir = mkdtempSync(join(tmpdir(), 'faucet-bench-kafkajs-'));
  const out = createWriteStream(join(dir, 'out.jsonl'));
  const consumer = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).consumer({
    groupId: `kafkajs-bench-${process.pid}-${Date.now()}`,
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let count = 0;
    let lastAt = 0;
    let finish;
    const finished = new Promise((r) => {
      finish = r;
    });
    const started = Date.now();
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch: b }) => {
        let text = '';
        for (const m of b.messages) {
          text += `${JSON.stringify({ topic, partition: b.partition, offset: Number(m.offset), value: JSON.parse(m.value.toString()) })}\n`;
        }
        if (!out.write(text)) await once(out, 'drain');
        count += b.messages.length;
        lastAt = Date.now();
        if (count >= messages) finish();
      },
    });
    await finished;
    report(count, started, lastAt);
  } finally {
    await consumer.disconnect();
    out.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function createTopic(topic) {
  const { Kafka, logLevel } = await kafkajs();
  const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const { createTopicAndWait } = await import('@faucet/common-kafka');
  await createTopicAndWait(admin, { topic, numPartitions: partitions });
  await admin.disconnect();
}

async function deleteTopics(topics) {
  const { Kafka, logLevel } = await kafkajs();
  const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => {});
  await admin.disconnect();
}

function runChild(kind, topic, data) {
  // The previous measurement left up to ~400 MB of the broker's log as dirty pages, which the kernel
  // writes back 30 s later: during this measurement, where every checkpoint's fdatasync would queue
  // behind it. Write them back first, so each measurement starts from the same quiet disk.
  spawnSync('sync');
  const proc = spawn(
    process.execPath,
    [
      self,
      '--child',
      kind,
      '--topic',
      topic,
      '--data',
      data ?? '',
      '--messages',
      String(messages),
      '--batch',
      String(batch),
      '--checkpoint-every',
      String(checkpointEvery),
      '--max-buffered',
      values['max-buffered'],
      '--brokers',
      brokers,
      ...(values['cli-v8'] ? ['--cli-v8'] : []),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: here },
  );
  let out = '';
  proc.stdout.on('data', (d) => {
    out += d;
  });
  return new Promise((resolvePromise, reject) =>
    proc.on('close', (code) =>
      code === 0 ? resolvePromise(JSON.parse(out)) : reject(new Error(`bench child ${kind} exited ${code}`)),
    ),
  );
}

async function main() {
  const data = join(here, 'results', `kafka-${messages}.jsonl`);
  if (!existsSync(data)) await writeJsonl(data, messages);
  const runs = Number(values.runs);
  const results = { toKafka: [], baselineToKafka: [], fromKafka: [], baselineFromKafka: [] };
  const loadBefore = loadavg().map((l) => Math.round(l * 10) / 10);
  const topics = [];
  try {
    for (let i = 0; i < runs; i++) {
      const faucetTopic = `faucet-bench-${Date.now()}-f${i}`;
      const kafkajsTopic = `faucet-bench-${Date.now()}-k${i}`;
      topics.push(faucetTopic, kafkajsTopic);
      await createTopic(faucetTopic);
      await createTopic(kafkajsTopic);
      results.toKafka.push(await runChild('to-kafka', faucetTopic, data));
      results.baselineToKafka.push(await runChild('baseline-to-kafka', kafkajsTopic, data));
      results.fromKafka.push(await runChild('from-kafka', faucetTopic));
      results.baselineFromKafka.push(await runChild('baseline-from-kafka', faucetTopic));
      await deleteTopics([faucetTopic, kafkajsTopic]);
    }
  } finally {
    await deleteTopics(topics);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const summarize = (rows) => ({
    medianPerSec: Math.round(median(rows.map((r) => r.perSec))),
    peakRssMiB: Math.round(Math.max(...rows.map((r) => r.peakRssMiB)) * 10) / 10,
    perRun: rows.map((r) => Math.round(r.perSec)),
  });
  const summary = {
    scenario: 'Kafka (kafkajs 2.2.4, Apache Kafka 4.4.0 on loopback)',
    messages,
    batch,
    checkpointEveryMs: checkpointEvery,
    maxBufferedMessages: Number(values['max-buffered']),
    partitions,
    runs,
    loadBefore,
    loadAfter: loadavg().map((l) => Math.round(l * 10) / 10),
    jsonlToKafka: summarize(results.toKafka),
    kafkajsProducer: summarize(results.baselineToKafka),
    kafkaToJsonl: summarize(results.fromKafka),
    kafkajsConsumer: summarize(results.baselineFromKafka),
  };
  console.log(values.json ? JSON.stringify(summary) : JSON.stringify(summary, null, 2));
}

/**
 * `--cli-v8`: the faucet children take the V8 settings `faucet run` gives itself on Node 20 and 22
 * (apps/cli/dist: heap growth bounded to 50%, the young generation's growth stopped at 8 MiB
 * semi-spaces), so their peak RSS is what a CLI user sees. The kafkajs baselines keep V8's defaults.
 */
async function cliV8Policy() {
  if (!values['cli-v8']) return;
  const { boundHeapGrowth } = await import('../apps/cli/dist/heap-policy.js');
  const { GROWTH_CAP_SEMI_SPACE_MB, stopYoungGenerationGrowth } = await import(
    '../apps/cli/dist/young-generation.js'
  );
  boundHeapGrowth();
  stopYoungGenerationGrowth(GROWTH_CAP_SEMI_SPACE_MB);
}

const children = {
  'to-kafka': async () => {
    await cliV8Policy();
    await faucetToKafka(values.topic, values.data);
  },
  'from-kafka': async () => {
    await cliV8Policy();
    await faucetFromKafka(values.topic);
  },
  'baseline-to-kafka': () => baselineToKafka(values.topic, values.data),
  'baseline-from-kafka': () => baselineFromKafka(values.topic),
};

if (values.child) await children[values.child]();
else await main();
