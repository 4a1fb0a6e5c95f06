// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${env:…} interpolation
/**
 * Acceptance of the Kafka connectors: 200,000 messages on a 3-partition topic are read by three rows
 * of one `faucet run` (state in files), each under its own consumer group:
 *   - kafka: Kafka -> Kafka with effectively_once (transactions; the bytes mirrored partition for
 *     partition): the target read read_committed holds every message exactly once, in order;
 *   - postgres: Kafka -> Postgres upsert on (topic, partition, offset): every message, once;
 *   - jsonl: Kafka -> JSON lines, append: every message, duplicates at most one page per kill.
 * The CLI is killed with SIGKILL at five random moments and started again; a last run catches up.
 * All along a watcher checks that no group's committed offsets pass the stored bookmark; after the
 * clean finish they equal it.
 *
 * Needs the Kafka broker and the PostgreSQL of scripts/services.sh (FAUCET_TEST_KAFKA_BROKERS,
 * FAUCET_TEST_POSTGRES_URL); without them the file fails in CI and is skipped, saying why, elsewhere.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import {
  committedOffsets,
  createTopic,
  deleteTopics,
  produce,
  readTopic,
  type TestMessage,
  uniqueName,
  withKafka,
} from '@faucet/test-support';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  assertBuilt,
  cleanupTempDirs,
  readJsonl,
  readStateDir,
  runCli,
  sleep,
  startCli,
  tempDir,
  withPostgres,
  write,
} from './helpers.js';

const MESSAGES = 200_000;
const PARTITIONS = 3;
const PAGE = 1000;
const KILLS = 5;
const ROWS = ['kafka', 'postgres', 'jsonl'] as const;

/** The messages: partition i % 3, `{id, p, seq}` with seq counting per partition. */
function sourceMessages(): TestMessage[] {
  const seq = [0, 0, 0];
  return Array.from({ length: MESSAGES }, (_, i) => {
    const p = i % PARTITIONS;
    const n = seq[p] as number;
    seq[p] = n + 1;
    return { key: `p${p}-${n}`, partition: p, value: JSON.stringify({ id: `p${p}-${n}`, p, seq: n }) };
  });
}

withKafka('faucet run Kafka -> Kafka / Postgres / JSON lines, killed with SIGKILL five times', (brokers) => {
  withPostgres('with PostgreSQL', (url) => {
    const name = uniqueName('kcrash').replace('-', '_');
    const source = `${name}-src`;
    const target = `${name}-dst`;
    const tokens = `${name}-tokens`;
    const schema = name;
    let pool: pg.Pool | undefined;
    const db = () => pool as pg.Pool;

    beforeAll(async () => {
      assertBuilt();
      pool = new pg.Pool({ connectionString: url, max: 2 });
      await db().query(`CREATE SCHEMA ${schema}`);
      await db().query(
        `CREATE TABLE ${schema}.msgs (topic text, "partition" int, "offset" bigint, data jsonb,
           PRIMARY KEY (topic, "partition", "offset"))`,
      );
      await createTopic(brokers, source, PARTITIONS);
      await createTopic(brokers, target, PARTITIONS);
      await produce(brokers, source, sourceMessages());
    }, 300_000);
    afterAll(async () => {
      cleanupTempDirs();
      await deleteTopics(brokers, [source, target, tokens]);
      await db()?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool?.end();
    });

    const groupOf = (row: string) => `${name}-${row}`;
    const pipeline = (idle: string) => `version: 1
name: ${name}
pipeline:
  source:
    type: kafka
    config:
      brokers: \${env:FAUCET_TEST_KAFKA_BROKERS}
      topics: [${source}]
      group_id: ${groupOf('kafka')}
      auto_offset_reset: earliest
      idle_timeout: ${idle}
      session_timeout: 2s
      heartbeat_interval: 500ms
  state: { type: file, config: { path: state } }
  batch_size: ${PAGE}
matrix:
  - id: kafka
    source: { config: { value_format: bytes } }
    sink:
      type: kafka
      config:
        brokers: \${env:FAUCET_TEST_KAFKA_BROKERS}
        topic: ${target}
        key_path: key
        value_path: value
        value_format: bytes
        partition_path: partition
        commit_token_topic: ${tokens}
    delivery: effectively_once
  - id: postgres
    source: { config: { group_id: ${groupOf('postgres')} } }
    sink:
      type: postgres
      config:
        connection_url: \${env:FAUCET_TEST_POSTGRES_URL}
        table: ${schema}.msgs
        write_mode: upsert
        key: [topic, partition, offset]
        column_mapping: { jsonb: data }
  - id: jsonl
    source: { config: { group_id: ${groupOf('jsonl')} } }
    sink: { type: file, config: { path: out.jsonl, format: jsonl, mode: append } }
execution: { max_concurrent: 3 }
`;

    /** Each row's stored next offset per partition (empty before its first checkpoint). */
    const stored = (dir: string, row: string): Map<number, number> => {
      const entry = readStateDir(join(dir, 'state'))[`${name}::${row}`] as
        | { bookmark?: { offsets?: { partition: number; offset: number }[] } }
        | undefined;
      return new Map((entry?.bookmark?.offsets ?? []).map((o) => [o.partition, o.offset]));
    };
    /** Messages each row has stored as done. */
    const progressIn = (dir: string): Record<string, number> =>
      Object.fromEntries(ROWS.map((row) => [row, [...stored(dir, row).values()].reduce((a, b) => a + b, 0)]));

    it('every message lands once (effectively-once, upsert) or at most one page per kill twice (append); group offsets never pass the bookmark', async () => {
      const dir = tempDir('faucet-kafka-crash-');
      const progress = () => progressIn(dir);
      write(join(dir, 'streaming.yaml'), pipeline('60s'));
      write(join(dir, 'catch-up.yaml'), pipeline('3s'));
      const env = { FAUCET_TEST_KAFKA_BROKERS: brokers, FAUCET_TEST_POSTGRES_URL: url };

      // The watcher: each group's committed offsets (read first) never pass the stored bookmark (read after).
      const violations: string[] = [];
      let samples = 0;
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          for (const row of ROWS) {
            const committed = await committedOffsets(brokers, groupOf(row), source);
            const bookmark = stored(dir, row);
            for (const [p, offset] of committed) {
              if (offset < 0) continue;
              samples++;
              const at = bookmark.get(p) ?? 0;
              if (offset > at) violations.push(`${row} partition ${p}: committed ${offset} > stored ${at}`);
            }
          }
          await sleep(50);
        }
      })();

      const kills: { run: number; delayMs: number; stored: Record<string, number> }[] = [];
      for (let run = 1; run <= KILLS; run++) {
        const before = progress();
        // Every row (still working) has stored a checkpoint of this run: all of them are streaming.
        const streaming = () => {
          const now = progress();
          return ROWS.every((row) => (now[row] ?? 0) > (before[row] ?? 0) || (now[row] ?? 0) === MESSAGES);
        };
        const cli = startCli(['run', 'streaming.yaml'], {
          cwd: dir,
          env,
          timeoutMs: 180_000,
          lowPriority: true,
        });
        let exited = false;
        void cli.done.then(() => {
          exited = true;
        });
        const deadline = Date.now() + 90_000;
        while (!streaming()) {
          if (exited) throw new Error(`run ${run} ended early:\n${(await cli.done).stderr}`);
          if (Date.now() > deadline)
            throw new Error(`run ${run} stored no checkpoint:\n${cli.output().stderr}`);
          await sleep(20);
        }
        const delayMs = randomInt(0, 2500);
        await sleep(delayMs);
        cli.child.kill('SIGKILL');
        const killed = await cli.done;
        expect(killed.signal, `run ${run} had ended before the kill: ${killed.stderr}`).toBe('SIGKILL');
        kills.push({ run, delayMs, stored: progress() });
      }
      // Every kill came before the end, each while the effectively-once row was still streaming.
      for (const kill of kills) {
        expect(
          Object.values(kill.stored).reduce((a, b) => a + b, 0),
          JSON.stringify(kills),
        ).toBeLessThan(MESSAGES * ROWS.length);
      }
      expect(kills.filter((k) => (k.stored.kafka ?? 0) < MESSAGES).length, JSON.stringify(kills)).toBe(KILLS);
      console.log(`kills: ${JSON.stringify(kills)}`);

      const last = await runCli(['run', 'catch-up.yaml', '--output', 'json'], {
        cwd: dir,
        env,
        timeoutMs: 300_000,
      });
      expect(last.code, last.stderr).toBe(0);
      watching = false;
      await watcher;
      expect(samples).toBeGreaterThan(50);
      expect(violations).toEqual([]);

      // After the clean finish every group's committed offsets equal the stored bookmark.
      for (const row of ROWS) {
        const committed = await committedOffsets(brokers, groupOf(row), source);
        expect(Object.fromEntries(committed), `group of ${row}`).toEqual(
          Object.fromEntries(stored(dir, row)),
        );
        expect([...stored(dir, row).values()].reduce((a, b) => a + b, 0)).toBe(MESSAGES);
      }

      // kafka: the target, read_committed, is the source partition for partition, in order, once.
      const mirrored = await readTopic(brokers, target, { timeoutMs: 120_000 });
      expect(mirrored).toHaveLength(MESSAGES);
      for (let p = 0; p < PARTITIONS; p++) {
        const seqs = mirrored
          .filter((m) => m.partition === p)
          .map((m) => (JSON.parse(m.value as string) as { seq: number }).seq);
        const expected = Array.from({ length: Math.ceil((MESSAGES - p) / PARTITIONS) }, (_, i) => i);
        expect(seqs.length, `partition ${p}`).toBe(expected.length);
        expect(
          seqs.every((s, i) => s === i),
          `partition ${p} holds every message once, in order`,
        ).toBe(true);
      }

      // postgres: every message once (upsert on its position).
      const { rows } = await db().query<{ n: string; ids: string }>(
        `SELECT count(*) AS n, count(DISTINCT data->'value'->>'id') AS ids FROM ${schema}.msgs`,
      );
      expect({ rows: Number(rows[0]?.n), ids: Number(rows[0]?.ids) }).toEqual({
        rows: MESSAGES,
        ids: MESSAGES,
      });

      // jsonl: nothing lost, at most one page per kill twice.
      const lines = readJsonl(join(dir, 'out.jsonl'));
      const ids = new Set(lines.map((l) => (l.value as { id: string }).id));
      expect(ids.size, 'every message is in the file').toBe(MESSAGES);
      expect(lines.length - ids.size, `duplicates (kills: ${JSON.stringify(kills)})`).toBeLessThanOrEqual(
        KILLS * PAGE,
      );
    }, 900_000);
  });
});
