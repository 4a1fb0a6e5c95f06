/**
 * The kafka sink against the real broker: topics per record, key / partition / headers from record
 * paths, gzip, per-row failures (unknown topic, no such partition, too large, no key on a compacted
 * topic, and a refusal only the broker knows about), batches cut to max.message.bytes, and
 * effectively-once: a transaction a crashed run left open is aborted and never seen.
 */
import { silentLogger } from '@faucet/core';
import { createKafkaSink } from '@faucet/sink-kafka';
import {
  createTopic,
  deleteTopics,
  kafkaTls,
  readTopic,
  testKafka,
  uniqueName,
  withKafka,
} from '@faucet/test-support';
import { Partitioners } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';

const writeContext = () => ({ signal: new AbortController().signal, logger: silentLogger });

withKafka('kafka sink against a real broker', (brokers) => {
  const topics: string[] = [];
  const topic = async (
    prefix: string,
    partitions = 1,
    configEntries: { name: string; value: string }[] = [],
  ) => {
    const name = uniqueName(prefix);
    topics.push(name);
    await createTopic(brokers, name, partitions, configEntries);
    return name;
  };
  afterAll(() => deleteTopics(brokers, topics));

  it('takes topic, key, partition and headers from record paths, with gzip', async () => {
    const a = await topic('paths-a', 3);
    const b = await topic('paths-b', 1);
    const sink = createKafkaSink({
      brokers,
      topic: { type: 'from_path', path: 'meta.dest' },
      key_path: 'meta.id',
      partition_path: 'meta.p',
      headers_path: 'meta.headers',
      value_path: 'body',
      compression: 'gzip',
    });
    try {
      const result = await sink.write(
        [
          { meta: { dest: a, id: 'x1', p: 2, headers: { trace: 't1', n: 5 } }, body: { hello: 'world' } },
          { meta: { dest: b, id: 'y1' }, body: 'text' },
          { meta: { dest: a, id: 'x2', p: 2 }, body: null },
        ],
        writeContext(),
      );
      expect(result?.failed ?? []).toEqual([]);
    } finally {
      await sink.close();
    }
    const inA = await readTopic(brokers, a);
    expect(inA.map((m) => [m.partition, m.key, m.value])).toEqual([
      [2, 'x1', '{"hello":"world"}'],
      [2, 'x2', null],
    ]);
    expect(inA[0]?.headers).toEqual({ trace: 't1', n: '5' });
    expect((await readTopic(brokers, b)).map((m) => [m.key, m.value])).toEqual([['y1', '"text"']]);
  });

  it('writes over TLS, trusting the CA file', async () => {
    const tls = kafkaTls();
    expect(
      tls,
      'FAUCET_TEST_KAFKA_TLS and FAUCET_TEST_KAFKA_TLS_CA (services.sh env) are needed',
    ).toBeDefined();
    const t = await topic('tls');
    const sink = createKafkaSink({
      brokers: tls?.broker ?? '',
      topic: t,
      key_path: 'id',
      tls: { ca_file: tls?.caFile ?? '' },
    });
    try {
      expect((await sink.write([{ id: 'over-tls' }], writeContext()))?.failed ?? []).toEqual([]);
    } finally {
      await sink.close();
    }
    expect((await readTopic(brokers, t)).map((m) => m.key)).toEqual(['over-tls']);
  });

  it('reports rows that cannot be sent, and writes the others', async () => {
    const plain = await topic('rows', 2);
    const compacted = await topic('rows-compacted', 1, [{ name: 'cleanup.policy', value: 'compact' }]);
    const sink = createKafkaSink({
      brokers,
      topic: { type: 'from_path', path: 'dest' },
      key_path: 'id',
      partition_path: 'p',
    });
    const missing = uniqueName('no-such-topic');
    try {
      const result = await sink.write(
        [
          { dest: plain, id: 'ok-1' },
          { dest: missing, id: 'unknown-topic' },
          { dest: plain, id: 'bad-partition', p: 7 },
          { dest: plain, id: 'too-large', blob: 'z'.repeat(1_100_000) },
          { dest: compacted },
          { id: 'no-topic' },
          { dest: compacted, id: 'ok-2' },
        ],
        writeContext(),
      );
      const failed = (result?.failed ?? []).map((f) => [f.index, (f.error as Error).message]);
      expect(failed.map(([i]) => i)).toEqual([1, 2, 3, 4, 5]);
      expect(failed[0]?.[1]).toContain(`topic "${missing}" does not exist`);
      expect(failed[1]?.[1]).toContain(`topic "${plain}" has no partition 7`);
      expect(failed[2]?.[1]).toContain('(max.message.bytes)');
      expect(failed[3]?.[1]).toContain(`topic "${compacted}" is compacted`);
      expect(failed[4]?.[1]).toContain('the topic field "dest" is missing');
      for (const f of result?.failed ?? [])
        expect((f.error as { code?: string }).code).toBe('SINK_ROW_REJECTED');
    } finally {
      await sink.close();
    }
    expect((await readTopic(brokers, plain)).map((m) => m.key)).toEqual(['ok-1']);
    expect((await readTopic(brokers, compacted)).map((m) => m.key)).toEqual(['ok-2']);
  });

  it('finds the rows a broker refuses that the sink could not foresee', async () => {
    // The topic takes 2,000-byte batches, but the sink is told it takes more: the broker refuses.
    const small = await topic('refused', 1, [{ name: 'max.message.bytes', value: '2000' }]);
    const sink = createKafkaSink({ brokers, topic: small, key_path: 'id', max_message_bytes: 100_000 });
    try {
      const records = Array.from({ length: 6 }, (_, i) => ({
        id: `r${i}`,
        pad: (i === 2 || i === 4 ? 'x' : 'y').repeat(i === 2 || i === 4 ? 3000 : 10),
      }));
      const result = await sink.write(records, writeContext());
      expect((result?.failed ?? []).map((f) => f.index)).toEqual([2, 4]);
      expect(((result?.failed ?? [])[0]?.error as Error).message).toContain('the broker refused the message');
    } finally {
      await sink.close();
    }
    expect((await readTopic(brokers, small)).map((m) => m.key)).toEqual(['r0', 'r1', 'r3', 'r5']);
  });

  it('cuts large writes into batches that fit max.message.bytes, in order', async () => {
    const t = await topic('chunks', 2, [{ name: 'max.message.bytes', value: '20000' }]);
    const sink = createKafkaSink({ brokers, topic: t, key_path: 'k', batch_size: 5000 });
    const records = Array.from({ length: 3000 }, (_, i) => ({ k: `key-${i % 10}`, i, pad: 'p'.repeat(200) }));
    try {
      const result = await sink.write(records, writeContext());
      expect(result?.failed ?? []).toEqual([]);
    } finally {
      await sink.close();
    }
    const back = await readTopic(brokers, t);
    expect(back).toHaveLength(3000);
    for (const p of [0, 1]) {
      const order = back
        .filter((m) => m.partition === p)
        .map((m) => (JSON.parse(m.value as string) as { i: number }).i);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
  });

  describe('effectively-once', () => {
    it('aborts a transaction a crashed run left open, and reads back the last committed token', async () => {
      const t = await topic('eo', 2);
      const tokens = uniqueName('eo-tokens');
      topics.push(tokens);
      const config = {
        brokers,
        topic: t,
        key_path: 'id',
        commit_token_topic: tokens,
        transactional_id_prefix: 'faucet-it',
      };
      const scope = `eo-${uniqueName('scope')}::row-0`;
      const first = createKafkaSink(config);
      expect(await first.lastCommittedToken(scope)).toBeUndefined();
      await first.writeIdempotent([{ id: 'a' }, { id: 'b' }], { scope, token: 'faucet1:1' }, writeContext());
      await first.writeIdempotent([], { scope, token: 'faucet1:2' }, writeContext());
      await first.close();

      // A crashed run: same transactional id, a transaction begun and never ended.
      const crashed = testKafka(brokers).producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        transactionalId: `faucet-it-${scope}`,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await crashed.connect();
      const open = await crashed.transaction();
      await open.send({ topic: t, messages: [{ key: 'ghost', value: '{"id":"ghost"}' }] });
      await open.send({ topic: tokens, messages: [{ key: scope, value: 'faucet1:ghost' }] });

      const second = createKafkaSink(config);
      try {
        expect(await second.lastCommittedToken(scope)).toBe('faucet1:2');
        await second.writeIdempotent([{ id: 'c' }], { scope, token: 'faucet1:3' }, writeContext());
        expect(await second.lastCommittedToken(scope)).toBe('faucet1:3');
      } finally {
        await second.close();
        await crashed.disconnect().catch(() => {});
      }
      expect((await readTopic(brokers, t)).map((m) => m.key).sort()).toEqual(['a', 'b', 'c']);
    });

    it('refuses a page with a row it cannot send, writing none of it', async () => {
      const t = await topic('eo-reject', 1);
      const tokens = uniqueName('eo-reject-tokens');
      topics.push(tokens);
      const sink = createKafkaSink({ brokers, topic: t, partition_path: 'p', commit_token_topic: tokens });
      const scope = `eo-${uniqueName('scope')}::row-0`;
      try {
        await expect(
          sink.writeIdempotent([{ id: 1 }, { id: 2, p: 9 }], { scope, token: 'faucet1:1' }, writeContext()),
        ).rejects.toThrow(
          /row 1 of an effectively-once page cannot be sent, so none of the page was written/,
        );
        expect(await sink.lastCommittedToken(scope)).toBeUndefined();
      } finally {
        await sink.close();
      }
      expect(await readTopic(brokers, t)).toEqual([]);
    });
  });
});
