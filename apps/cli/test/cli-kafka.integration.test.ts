// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${env:…} interpolation
/**
 * The Kafka connectors through the real CLI against the broker of scripts/services.sh:
 *   - `faucet init --template kafka` runs as scaffolded (once pointed at a topic);
 *   - bad input: an unreachable broker, an unknown topic, a wrong SASL password (never shown), a
 *     value that is not JSON (a clear error, or a DLQ row with the raw bytes and the position);
 *   - `faucet check` shows the group's lag per partition;
 *   - a producer keeps writing while `idle_timeout: 0` runs; SIGTERM stops the run (exit 143) with the
 *     last page checkpointed, and the next run resumes with no gap and no duplicate.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  committedOffsets,
  createTopic,
  deleteTopics,
  kafkaSasl,
  produce,
  uniqueName,
  withKafka,
} from '@faucet/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  CLI_DIR,
  cleanupTempDirs,
  countLines,
  readJsonl,
  readStateDir,
  runCli,
  startCli,
  tempDir,
  waitFor,
  write,
} from './helpers.js';

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

/** The error of the first invocation in a `--output json` summary. */
function failureOf(stdout: string): { code?: string; message?: string } | undefined {
  return (JSON.parse(stdout) as { invocations: { error?: { code: string; message: string } }[] })
    .invocations[0]?.error;
}

withKafka('the Kafka connectors through the CLI', (brokers) => {
  const topics: string[] = [];
  const topic = (prefix: string) => {
    const name = uniqueName(prefix);
    topics.push(name);
    return name;
  };
  afterAll(() => deleteTopics(brokers, topics));
  const env = { FAUCET_TEST_KAFKA_BROKERS: brokers };

  const pipeline = (name: string, source: string, extra = '', sinkExtra = '') => `version: 1
name: ${name}
pipeline:
  source:
    type: kafka
    config:
      brokers: \${env:FAUCET_TEST_KAFKA_BROKERS}
      topics: [${source}]
      group_id: ${name}
      auto_offset_reset: earliest
      idle_timeout: 2s
${extra}
  sink: { type: file, config: { path: out.jsonl, format: jsonl } }
  state: { type: file, config: { path: state } }
${sinkExtra}`;

  it('faucet init --template kafka scaffolds a pipeline that runs', async () => {
    const source = topic('cli-init');
    await createTopic(brokers, source, 2);
    await produce(
      brokers,
      source,
      Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ n: i }) })),
    );
    const dir = tempDir('faucet-kafka-init-');
    const init = await runCli(['init', '--template', 'kafka', '--name', 'orders_copy'], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
    const file = join(dir, 'faucet.yaml');
    const text = readFileSync(file, 'utf8')
      .replace('brokers: [localhost:9092]', 'brokers: ["${env:FAUCET_TEST_KAFKA_BROKERS}"]')
      .replace('topics: [orders]', `topics: [${source}]`)
      .replace('idle_timeout: 10s', 'idle_timeout: 1s');
    writeFileSync(file, text);
    const run = await runCli(['run', '-o', 'json'], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    const lines = readJsonl(join(dir, 'out', 'messages.jsonl'));
    expect(lines.map((l) => (l.value as { n: number }).n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    expect(lines[0]).toMatchObject({ topic: source, headers: {} });
  });

  describe('bad input', () => {
    it('an unreachable broker: exit 1, the brokers named', async () => {
      const dir = tempDir('faucet-kafka-bad-');
      // Written out, not interpolated: values from the environment are scrubbed from output.
      write(
        join(dir, 'faucet.yaml'),
        pipeline('unreachable', 'nothing').replace('${env:FAUCET_TEST_KAFKA_BROKERS}', '127.0.0.1:1'),
      );
      const result = await runCli(['run', '-o', 'json'], { cwd: dir, env });
      expect(result.code).toBe(1);
      expect(failureOf(result.stdout)).toMatchObject({
        code: 'CONNECTION_FAILED',
        message: expect.stringContaining('kafka source (127.0.0.1:1): cannot reach the brokers'),
      });
      expect(result.stderr).toContain('kafka source (127.0.0.1:1): cannot reach the brokers');
    });

    it('an unknown topic: exit 1, the topic named', async () => {
      const dir = tempDir('faucet-kafka-bad-');
      const missing = uniqueName('no-such-topic');
      write(join(dir, 'faucet.yaml'), pipeline('unknown_topic', missing));
      const result = await runCli(['run'], { cwd: dir, env });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`topic "${missing}" does not exist`);
      const check = await runCli(['check'], { cwd: dir, env });
      expect(check.code).toBe(1);
      expect(check.stdout).toContain(`topic "${missing}" does not exist`);
    });

    it('a wrong SASL password: exit 1, authentication named, the password never shown', async () => {
      const sasl = kafkaSasl();
      expect(sasl, 'FAUCET_TEST_KAFKA_SASL (services.sh env) is needed').toBeDefined();
      const source = topic('cli-sasl');
      await createTopic(brokers, source, 1);
      const dir = tempDir('faucet-kafka-bad-');
      const password = 'Wrong-Pass-8813';
      write(
        join(dir, 'faucet.yaml'),
        pipeline(
          'wrong_password',
          source,
          `      auth: { type: sasl_scram, username: ${sasl?.user}, password: "\${env:KAFKA_PASSWORD}" }`,
        ),
      );
      const result = await runCli(['run', '-o', 'json'], {
        cwd: dir,
        env: { FAUCET_TEST_KAFKA_BROKERS: sasl?.broker ?? '', KAFKA_PASSWORD: password },
      });
      expect(result.code).toBe(1);
      expect(failureOf(result.stdout)).toMatchObject({
        code: 'AUTH_FAILED',
        message: expect.stringContaining(`authentication failed for user "${sasl?.user}"`),
      });
      expect(result.stderr).toContain(`authentication failed for user "${sasl?.user}"`);
      expect(result.stdout + result.stderr).not.toContain(password);
      // The right password works (SCRAM-SHA-256).
      const ok = await runCli(['run'], {
        cwd: dir,
        env: { FAUCET_TEST_KAFKA_BROKERS: sasl?.broker ?? '', KAFKA_PASSWORD: sasl?.password ?? '' },
      });
      expect(ok.code, ok.stderr).toBe(0);
    });

    const decodeTopic = async () => {
      const source = topic('cli-decode');
      await createTopic(brokers, source, 1);
      await produce(brokers, source, [
        { key: 'a', value: '{"n":1}' },
        { key: 'b', value: 'not json at all' },
        { key: 'c', value: '{"n":3}' },
      ]);
      return source;
    };

    it('a value that is not JSON: exit 1, the message named by topic, partition and offset', async () => {
      const source = await decodeTopic();
      const dir = tempDir('faucet-kafka-bad-');
      write(join(dir, 'faucet.yaml'), pipeline('decode_fail', source));
      const failed = await runCli(['run', '-o', 'json'], { cwd: dir, env });
      expect(failed.code).toBe(1);
      expect(failureOf(failed.stdout)).toMatchObject({
        code: 'RECORD_INVALID',
        message: expect.stringContaining(`topic "${source}" partition 0 offset 1: the value is not JSON`),
      });
      expect(failed.stderr).toContain(`topic "${source}" partition 0 offset 1: the value is not JSON`);
      // The record before it was written and checkpointed: the bookmark stops right at it.
      expect(readJsonl(join(dir, 'out.jsonl')).map((l) => l.key)).toEqual(['a']);
      const state = readStateDir(join(dir, 'state'))['decode_fail::row-0'];
      expect((state?.bookmark as { offsets: { offset: number }[] }).offsets[0]?.offset).toBe(1);
    });

    // on_record_error is the engine's pipeline setting (Page.rejected), on main since 1db9fd8.
    it('on_record_error: dlq sets a message that is not JSON aside, with its raw bytes and position', async () => {
      const source = await decodeTopic();
      const dlqDir = tempDir('faucet-kafka-dlq-');
      write(
        join(dlqDir, 'faucet.yaml'),
        pipeline(
          'decode_dlq',
          source,
          '',
          '  on_record_error: dlq\n  dlq: { sink: { type: file, config: { path: dlq.jsonl, format: jsonl } } }\n',
        ),
      );
      const ok = await runCli(['run', '-o', 'json'], { cwd: dlqDir, env });
      expect(ok.code, ok.stderr).toBe(0);
      expect(readJsonl(join(dlqDir, 'out.jsonl')).map((l) => l.key)).toEqual(['a', 'c']);
      const dead = readJsonl(join(dlqDir, 'dlq.jsonl'));
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({
        reason: 'source',
        payload: null,
        pipeline: 'decode_dlq',
        error: { kind: 'RECORD_INVALID' },
        raw: Buffer.from('not json at all').toString('base64'),
        position: {
          topic: source,
          partition: 0,
          offset: 1,
          field: 'value',
          key_base64: Buffer.from('b').toString('base64'),
        },
      });
      expect((dead[0]?.error as { message: string }).message).toContain('partition 0 offset 1');
    });
  });

  it('faucet check shows the group lag per partition', async () => {
    const source = topic('cli-check');
    await createTopic(brokers, source, 2);
    await produce(brokers, source, [
      { key: 'a', value: '{}', partition: 0 },
      { key: 'b', value: '{}', partition: 0 },
      { key: 'c', value: '{}', partition: 1 },
    ]);
    const dir = tempDir('faucet-kafka-check-');
    write(join(dir, 'faucet.yaml'), pipeline('check_lag', source));
    const before = await runCli(['check', '-o', 'json'], { cwd: dir, env });
    expect(before.code, before.stdout + before.stderr).toBe(0);
    const facts = (JSON.parse(before.stdout) as { rows: Array<{ facts: Record<string, unknown> }> }).rows[0]
      ?.facts;
    expect(facts).toMatchObject({
      group_id: 'check_lag',
      total_lag: 3,
      partitions: [
        { topic: source, partition: 0, committed: null, high_watermark: 2, lag: 2 },
        { topic: source, partition: 1, committed: null, high_watermark: 1, lag: 1 },
      ],
    });
    expect((await runCli(['run'], { cwd: dir, env })).code).toBe(0);
    const after = await runCli(['check'], { cwd: dir, env });
    expect(after.code, after.stdout + after.stderr).toBe(0);
    expect(after.stdout).toContain('total_lag=0');
    expect(after.stdout).toContain('state check_lag::row-0:');
  });

  it('SIGTERM while a producer writes (idle_timeout: 0): exit 143, last page stored, the next run resumes with no gap', async () => {
    const source = topic('cli-sigterm');
    await createTopic(brokers, source, 3);
    const dir = tempDir('faucet-kafka-sigterm-');
    write(
      join(dir, 'streaming.yaml'),
      pipeline('sigterm', source).replace('idle_timeout: 2s', 'idle_timeout: 0'),
    );
    write(join(dir, 'catch-up.yaml'), pipeline('sigterm', source));
    const total = 20_000;
    // The producer: a separate process writing 20,000 numbered messages in small batches (idempotent:
    // a re-sent request must not write a message twice, the test counts them).
    const producer = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { Kafka, logLevel, Partitioners } from 'kafkajs';
         const [brokers, topic, total] = process.argv.slice(1);
         const p = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
         await p.connect();
         for (let i = 0; i < Number(total); i += 50) {
           await p.send({ topic, acks: -1, messages: Array.from({ length: 50 }, (_, j) => ({ key: String(i + j), value: JSON.stringify({ n: i + j }) })) });
           await new Promise((r) => setTimeout(r, 5));
         }
         await p.disconnect();`,
        brokers,
        source,
        String(total),
      ],
      { cwd: CLI_DIR, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let producerErr = '';
    producer.stderr.on('data', (d: Buffer) => {
      producerErr += d.toString();
    });
    const produced = new Promise<number | null>((resolve) => producer.on('close', resolve));

    const run = startCli(['run', 'streaming.yaml'], { cwd: dir, env, timeoutMs: 180_000 });
    // Counted by line breaks: the file is being written, and its last line may be half there.
    const out = join(dir, 'out.jsonl');
    await waitFor(() => countLines(out) >= 2000, 'the run to be under way', 90_000);
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(143);
    expect(result.stderr).toContain('SIGTERM: cancelling');
    const written = readJsonl(out);
    const stored = readStateDir(join(dir, 'state'))['sigterm::row-0']?.bookmark as {
      offsets: { partition: number; offset: number }[];
    };
    // The last page is stored: the bookmark counts exactly the messages written.
    expect(stored.offsets.reduce((sum, o) => sum + o.offset, 0)).toBe(written.length);
    const group = await committedOffsets(brokers, 'sigterm', source);
    for (const o of stored.offsets) expect(group.get(o.partition), `partition ${o.partition}`).toBe(o.offset);

    expect(await produced, producerErr).toBe(0);
    expect(written.length, 'the run was stopped before the producer finished').toBeLessThan(total);
    const rerun = await runCli(['run', 'catch-up.yaml', '-o', 'json'], { cwd: dir, env, timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const all = readJsonl(out).map((l) => (l.value as { n: number }).n);
    expect(all).toHaveLength(total);
    expect(new Set(all).size).toBe(total);
  });
});
