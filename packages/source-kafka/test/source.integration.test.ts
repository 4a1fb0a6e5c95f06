/**
 * The kafka source against the real broker: record shape and formats, topic patterns, transactions
 * upstream (aborted messages skipped, markers passed), `latest` starts stored at once, max_messages,
 * group offsets committed only from durable checkpoints, a bookmark of another cluster refused, and a
 * rebalance in the middle of a read (no page holds a partition already taken away; nothing lost).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createFileStateStore,
  createMemoryStateStore,
  type FaucetRecord,
  type JsonObject,
  type Page,
  runPipeline,
  type Sink,
  type Source,
  silentLogger,
} from '@faucet/core';
import { createKafkaSource, type KafkaSourceConfigInput } from '@faucet/source-kafka';
import {
  committedOffsets,
  createTopic,
  deleteTopics,
  kafkaSasl,
  kafkaTls,
  produce,
  testKafka,
  uniqueName,
  withKafka,
  withKafkaAdmin,
} from '@faucet/test-support';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Partitioners,
  ResourcePatternTypes,
} from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function collectingSink(): Sink & { rows: FaucetRecord[] } {
  const rows: FaucetRecord[] = [];
  return {
    rows,
    async write(records) {
      rows.push(...records);
    },
  };
}

async function readAll(source: Source, bookmark?: Page['bookmark'], batchSize = 100): Promise<Page[]> {
  const pages: Page[] = [];
  for await (const page of source.read({
    bookmark,
    batchSize,
    signal: new AbortController().signal,
    logger: silentLogger,
  })) {
    pages.push(page);
  }
  return pages;
}

withKafka('kafka source against a real broker', (brokers) => {
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
  const base = (
    t: string | string[],
    extra: Partial<KafkaSourceConfigInput> = {},
  ): KafkaSourceConfigInput => ({
    brokers,
    topics: Array.isArray(t) ? t : [t],
    group_id: uniqueName('source-it'),
    auto_offset_reset: 'earliest',
    idle_timeout: '1s',
    ...extra,
  });

  it('yields {topic, partition, offset, key, value, timestamp, headers} in each format', async () => {
    const t = await topic('shape');
    await produce(brokers, t, [
      { key: 'a', value: '{"n":1,"s":"x"}', headers: { trace: 't-1' } },
      { key: null, value: null },
      { key: 'c', value: Buffer.from([0xff, 0x00, 0x7f]) },
    ]);
    const json = await readAll(createKafkaSource(base(t, { value_format: 'bytes' })));
    const records = json.flatMap((p) => p.records);
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({
      topic: t,
      partition: 0,
      offset: 0,
      key: 'a',
      value: Buffer.from('{"n":1,"s":"x"}').toString('base64'),
      headers: { trace: 't-1' },
    });
    expect(typeof records[0]?.timestamp).toBe('number');
    expect(records[1]).toMatchObject({ offset: 1, key: null, value: null });
    expect(records[2]).toMatchObject({ value: Buffer.from([0xff, 0x00, 0x7f]).toString('base64') });

    const parsed = await readAll(
      createKafkaSource(base(t, { value_format: 'json', key_format: 'bytes', max_messages: 2 })),
    );
    const two = parsed.flatMap((p) => p.records);
    expect(two).toHaveLength(2);
    expect(two[0]).toMatchObject({ key: Buffer.from('a').toString('base64'), value: { n: 1, s: 'x' } });
    // max_messages: the bookmark stops right after the second message.
    const last = parsed.at(-1)?.bookmark as { offsets: { offset: number }[] };
    expect(last.offsets[0]?.offset).toBe(2);
  });

  it('a message that does not decode: fails after the page before it, or rides in Page.rejected (on_record_error: dlq)', async () => {
    const t = await topic('decode');
    await produce(brokers, t, [
      { key: 'a', value: '{"n":1}' },
      { key: 'b', value: '{"n":' },
      { key: 'c', value: '{"n":3}' },
    ]);
    const read = (onRecordError: 'fail' | 'dlq') => {
      const pages: Page[] = [];
      const run = (async () => {
        for await (const page of createKafkaSource(base(t)).read({
          bookmark: undefined,
          batchSize: 100,
          signal: new AbortController().signal,
          logger: silentLogger,
          onRecordError,
        })) {
          pages.push(page);
        }
      })();
      return { pages, run };
    };
    const failing = read('fail');
    await expect(failing.run).rejects.toThrow(`topic "${t}" partition 0 offset 1: the value is not JSON`);
    expect(failing.pages.flatMap((p) => p.records).map((r) => r.key)).toEqual(['a']);
    expect((failing.pages.at(-1)?.bookmark as { offsets: { offset: number }[] }).offsets[0]?.offset).toBe(1);

    const setAside = read('dlq');
    await setAside.run;
    expect(setAside.pages.flatMap((p) => p.records).map((r) => r.key)).toEqual(['a', 'c']);
    const rejected = setAside.pages.flatMap((p) => p.rejected ?? []);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({
      raw: Buffer.from('{"n":').toString('base64'),
      position: {
        topic: t,
        partition: 0,
        offset: 1,
        field: 'value',
        key_base64: Buffer.from('b').toString('base64'),
      },
    });
    expect((rejected[0]?.error as { code?: string }).code).toBe('RECORD_INVALID');
  });

  it('reads every topic a pattern matches', async () => {
    const prefix = uniqueName('pat');
    const a = `${prefix}.a`;
    const b = `${prefix}.b`;
    topics.push(a, b);
    await createTopic(brokers, a, 1);
    await createTopic(brokers, b, 2);
    await produce(brokers, a, [{ key: '1', value: '{}' }]);
    await produce(brokers, b, [
      { key: '2', value: '{}' },
      { key: '3', value: '{}' },
    ]);
    const { topics: _, ...rest } = base(a);
    const source = createKafkaSource({ ...rest, topic_pattern: `^${prefix.replace(/[-]/g, '\\-')}\\.` });
    const records = (await readAll(source)).flatMap((p) => p.records);
    expect(records.map((r) => `${r.topic}/${r.key}`).sort()).toEqual([`${a}/1`, `${b}/2`, `${b}/3`]);
    const discovered = await source.discover();
    expect(discovered.map((d) => d.name).sort()).toEqual([a, b]);
    expect(discovered.find((d) => d.name === b)?.schema).toMatchObject({
      properties: { partition: { enum: [0, 1] } },
    });
  });

  it('skips aborted transactions, passes their markers, and resumes past them', async () => {
    const t = await topic('txn');
    const producer = testKafka(brokers).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      transactionalId: uniqueName('txn-producer'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const batch = async (values: string[], commit: boolean) => {
      const txn = await producer.transaction();
      await txn.send({ topic: t, messages: values.map((v) => ({ key: v, value: JSON.stringify({ v }) })) });
      if (commit) await txn.commit();
      else await txn.abort();
    };
    await batch(['a1', 'a2', 'a3'], true);
    await batch(['x1', 'x2'], false);
    await batch(['c1'], true);
    await producer.disconnect();
    const pages = await readAll(createKafkaSource(base(t)));
    expect(pages.flatMap((p) => p.records).map((r) => r.key)).toEqual(['a1', 'a2', 'a3', 'c1']);
    const bookmark = pages.at(-1)?.bookmark as { offsets: { offset: number }[] };
    // 6 messages and 3 markers: the bookmark stands past the last marker, at the end of the log.
    expect(bookmark.offsets[0]?.offset).toBe(9);
    const again = await readAll(createKafkaSource(base(t)), bookmark);
    expect(again.flatMap((p) => p.records)).toEqual([]);
  });

  it('auto_offset_reset latest: the start is stored even when no message comes, so none produced later is missed', async () => {
    const t = await topic('latest', 2);
    await produce(brokers, t, [{ key: 'old', value: '{}' }]);
    const group = uniqueName('latest');
    const state = createMemoryStateStore();
    const sink = collectingSink();
    const config = base(t, { group_id: group, auto_offset_reset: 'latest' });
    const first = await runPipeline({ source: createKafkaSource(config), sink, state, pipeline: 'latest' });
    expect(first.status).toBe('ok');
    expect(sink.rows).toEqual([]);
    expect(first.lastBookmark).toMatchObject({ offsets: [{ partition: 0 }, { partition: 1 }] });
    await produce(brokers, t, [{ key: 'new', value: '{}' }]);
    const second = await runPipeline({ source: createKafkaSource(config), sink, state, pipeline: 'latest' });
    expect(second.status).toBe('ok');
    expect(sink.rows.map((r) => r.key)).toEqual(['new']);
  });

  it('commits the group offsets only from durably stored checkpoints, and ends equal to the bookmark', async () => {
    const t = await topic('commits', 3);
    await produce(
      brokers,
      t,
      Array.from({ length: 900 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ i }) })),
    );
    const memoryGroup = uniqueName('commits-memory');
    const memoryRun = await runPipeline({
      source: createKafkaSource(base(t, { group_id: memoryGroup })),
      sink: collectingSink(),
      state: createMemoryStateStore(),
      batchSize: 100,
    });
    expect(memoryRun.status).toBe('ok');
    // A memory store is not durable: nothing was acknowledged upstream.
    expect([...(await committedOffsets(brokers, memoryGroup, t)).values()].every((o) => o < 0)).toBe(true);

    const dir = mkdtempSync(join(tmpdir(), 'kafka-commits-'));
    try {
      const group = uniqueName('commits-file');
      const result = await runPipeline({
        source: createKafkaSource(base(t, { group_id: group })),
        sink: collectingSink(),
        state: createFileStateStore({ path: dir }),
        batchSize: 100,
      });
      expect(result.status).toBe('ok');
      const stored = result.lastBookmark as { offsets: { partition: number; offset: number }[] };
      const committed = await committedOffsets(brokers, group, t);
      expect(Object.fromEntries(committed)).toEqual(
        Object.fromEntries(stored.offsets.map((o) => [o.partition, o.offset])),
      );
      expect(stored.offsets.reduce((sum, o) => sum + o.offset, 0)).toBe(900);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads over TLS, trusting the CA file; an untrusted certificate is a connection error naming the broker', async () => {
    const tls = kafkaTls();
    expect(
      tls,
      'FAUCET_TEST_KAFKA_TLS and FAUCET_TEST_KAFKA_TLS_CA (services.sh env) are needed',
    ).toBeDefined();
    const t = await topic('tls');
    await produce(brokers, t, [{ key: 'secure', value: '{"ok":true}' }]);
    const trusted = await readAll(
      createKafkaSource({ ...base(t), brokers: tls?.broker ?? '', tls: { ca_file: tls?.caFile ?? '' } }),
    );
    expect(trusted.flatMap((p) => p.records).map((r) => r.key)).toEqual(['secure']);
    const untrusted = createKafkaSource({ ...base(t), brokers: tls?.broker ?? '', tls: true });
    await expect(untrusted.check()).rejects.toMatchObject({
      code: 'CONNECTION_FAILED',
      message: expect.stringContaining(`kafka source (${tls?.broker}): cannot reach the brokers`),
    });
  });

  it('ACLs: a group the user may not use fails check(), naming it; a topic it may not read fails the run (AUTH_FAILED)', async () => {
    const sasl = kafkaSasl();
    expect(sasl, 'FAUCET_TEST_KAFKA_SASL (services.sh env) is needed').toBeDefined();
    const t = await topic('acl');
    await produce(brokers, t, [{ key: 'a', value: '{}' }]);
    const deniedGroup = uniqueName('acl-group');
    const principal = `User:${sasl?.user}`;
    const entry =
      (permissionType: AclPermissionTypes) =>
      (resourceType: AclResourceTypes, resourceName: string, operation: AclOperationTypes) => ({
        resourceType,
        resourceName,
        resourcePatternType: ResourcePatternTypes.LITERAL,
        principal,
        host: '*',
        operation,
        permissionType,
      });
    const allow = entry(AclPermissionTypes.ALLOW);
    const deny = entry(AclPermissionTypes.DENY);
    // Once a resource has ACLs, what they do not allow is denied: the topic may be described, not read.
    const acl = [
      deny(AclResourceTypes.GROUP, deniedGroup, AclOperationTypes.ALL),
      allow(AclResourceTypes.TOPIC, t, AclOperationTypes.DESCRIBE),
      deny(AclResourceTypes.TOPIC, t, AclOperationTypes.READ),
    ];
    await withKafkaAdmin(brokers, (admin) => admin.createAcls({ acl }));
    try {
      const asUser = (group: string) =>
        createKafkaSource({
          ...base(t, { group_id: group }),
          brokers: sasl?.broker ?? '',
          auth: { type: 'sasl_plain', username: sasl?.user ?? '', password: sasl?.password ?? '' },
        });
      await expect(asUser(deniedGroup).check()).rejects.toThrow(
        `checking the brokers, the topics and group "${deniedGroup}" failed: no broker named the group's coordinator ` +
          '(an ACL may deny this user the consumer group',
      );
      const result = await runPipeline({
        source: asUser(uniqueName('acl-ok')),
        sink: collectingSink(),
        state: createMemoryStateStore(),
      });
      expect(result.status).toBe('failed');
      expect(result.error?.code).toBe('AUTH_FAILED');
      expect(result.error?.message).toContain('TOPIC_AUTHORIZATION_FAILED');
    } finally {
      await withKafkaAdmin(brokers, (admin) => admin.deleteAcls({ filters: acl }));
    }
  });

  it('refuses a bookmark of another cluster', async () => {
    const t = await topic('cluster');
    const source = createKafkaSource(base(t));
    const bookmark = { kind: 'kafka-offsets', cluster: 'another-cluster', offsets: [] };
    await expect(readAll(source, bookmark)).rejects.toThrow(/belongs to Kafka cluster another-cluster/);
  });

  describe('a rebalance in the middle of a read', () => {
    it('never hands out a partition after it was taken away, and loses nothing', async () => {
      const t = await topic('rebalance', 4);
      const total = 4000;
      await produce(
        brokers,
        t,
        Array.from({ length: total }, (_, i) => ({
          key: `k${i}`,
          value: JSON.stringify({ i }),
          partition: i % 4,
        })),
      );
      const group = uniqueName('rebalance');
      const assignments: { at: number; partitions: Set<string> }[] = [];
      let pageCount = 0;
      const source = createKafkaSource(
        base(t, {
          group_id: group,
          idle_timeout: '3s',
          max_buffered_messages: 200,
          max_bytes_per_partition: 4096,
          session_timeout: '6s',
          heartbeat_interval: '500ms',
        }),
        {
          onAssignment: (partitions) => assignments.push({ at: pageCount, partitions: new Set(partitions) }),
        },
      );
      const seen: FaucetRecord[] = [];
      const violations: string[] = [];
      let intruder: ReturnType<ReturnType<typeof testKafka>['consumer']> | undefined;
      for await (const page of source.read({
        bookmark: undefined,
        batchSize: 50,
        signal: new AbortController().signal,
        logger: silentLogger,
      })) {
        pageCount++;
        const owned = assignments.at(-1)?.partitions ?? new Set<string>();
        for (const r of page.records) {
          if (!owned.has(`${r.topic}:${r.partition}`))
            violations.push(`page ${pageCount}: partition ${r.partition}`);
        }
        seen.push(...page.records);
        // After a few pages a second member joins, and the read waits (the member keeps heartbeating)
        // until the group took partitions away; then that member leaves, and they come back.
        if (pageCount === 5) {
          intruder = testKafka(brokers).consumer({
            groupId: group,
            sessionTimeout: 6000,
            heartbeatInterval: 500,
          });
          await intruder.connect();
          await intruder.subscribe({ topics: [t] });
          await intruder.run({
            autoCommit: false,
            eachMessage: async () => new Promise((r) => setTimeout(r, 5)),
          });
          await until(() => assignments.some((a) => a.partitions.size < 4), 'partitions taken away');
          await intruder.disconnect();
          intruder = undefined;
        }
      }
      await intruder?.disconnect();
      expect(assignments.length, 'the group rebalanced').toBeGreaterThanOrEqual(3);
      expect(assignments.some((a) => a.partitions.size < 4)).toBe(true);
      expect(assignments.at(-1)?.partitions.size, 'the partitions came back').toBe(4);
      expect(violations).toEqual([]);
      const ids = new Set(seen.map((r) => (r.value as JsonObject).i));
      expect(ids.size, 'every message was read').toBe(total);
    });
  });
});
