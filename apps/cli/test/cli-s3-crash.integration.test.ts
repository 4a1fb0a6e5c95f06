// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${env:…} interpolation
/**
 * Acceptance, through the built CLI, against the real S3 server (moto) and PostgreSQL of
 * scripts/services.sh, each killed with SIGKILL five times at random moments:
 *
 * 1. S3 (gzip CSV objects) -> Postgres upsert, state in Postgres: the target then equals the source;
 *    a second run reads no object; 10 new objects then move exactly their rows.
 * 2. file -> S3 with effectively-once delivery, as jsonl.gz and as Parquet, with pages large enough
 *    to be multipart uploads: every visible object read back gives each source row exactly once, and
 *    no unfinished multipart upload remains after the clean run.
 *
 * Sizes: CI runs 400 objects / 100,000 rows for (1); FAUCET_S3_CRASH_OBJECTS=2000 gives the full
 * 2,000 objects / 500,000 rows of the issue (run once by hand; see packages/source-s3/README.md).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  listKeys,
  openUploads,
  putObject,
  readParts,
  s3TestConnection,
  useBucket,
  withS3,
} from '@faucet/test-support';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  cleanupTempDirs,
  readStateDir,
  runCli,
  sleep,
  startCli,
  tempDir,
  write,
} from './helpers.js';

const OBJECTS = Number(process.env.FAUCET_S3_CRASH_OBJECTS ?? 400);
const ROWS_PER_OBJECT = 250;
const KILLS = 5;

interface Summary {
  status: string;
  records_written: number;
  invocations: Array<{
    state_key: string;
    status: string;
    records_read: number;
    records_written: number;
    pages: number;
  }>;
}

const csvObject = (first: number, n: number) => {
  let text = 'id,name,amount\n';
  for (let id = first; id < first + n; id++) text += `${id},name ${id},${(id % 1000) + 0.25}\n`;
  return gzipSync(text);
};

/** Upload objects in key order, 16 at a time. */
async function uploadObjects(client: S3Client, bucket: string, from: number, count: number): Promise<void> {
  const keys = Array.from({ length: count }, (_, i) => from + i);
  for (let i = 0; i < keys.length; i += 16) {
    await Promise.all(
      keys
        .slice(i, i + 16)
        .map((n) =>
          putObject(
            client,
            bucket,
            `in/part-${String(n).padStart(5, '0')}.csv.gz`,
            csvObject((n - 1) * ROWS_PER_OBJECT + 1, ROWS_PER_OBJECT),
          ),
        ),
    );
  }
}

function s3Env(): NodeJS.ProcessEnv {
  const c = s3TestConnection();
  return {
    FAUCET_TEST_S3_ENDPOINT: c.endpoint_url,
    FAUCET_TEST_S3_ACCESS_KEY_ID: c.access_key_id,
    FAUCET_TEST_S3_SECRET_ACCESS_KEY: c.secret_access_key,
  };
}

const s3Block = (bucket: string) => `      bucket: ${bucket}
      endpoint_url: \${env:FAUCET_TEST_S3_ENDPOINT}
      access_key_id: \${env:FAUCET_TEST_S3_ACCESS_KEY_ID}
      secret_access_key: \${env:FAUCET_TEST_S3_SECRET_ACCESS_KEY}`;

/** Kill a run once `progress()` reaches `target` (plus a random delay); returns the delay used. */
async function killAt(
  dir: string,
  env: NodeJS.ProcessEnv,
  progress: () => Promise<number>,
  target: number,
  maxDelayMs: number,
): Promise<number> {
  const cli = startCli(['run', 'pipeline.yaml'], { cwd: dir, env, timeoutMs: 120_000, lowPriority: true });
  let exited = false;
  void cli.done.then(() => {
    exited = true;
  });
  const deadline = Date.now() + 100_000;
  while ((await progress()) < target) {
    if (exited) throw new Error(`the run ended before reaching ${target}:\n${(await cli.done).stderr}`);
    if (Date.now() > deadline) throw new Error(`no progress to ${target}`);
    await sleep(5);
  }
  const delay = randomInt(0, maxDelayMs);
  await sleep(delay);
  cli.child.kill('SIGKILL');
  const killed = await cli.done;
  expect(killed.signal, `the run had ended before the kill: ${killed.stderr}`).toBe('SIGKILL');
  return delay;
}

withS3('faucet run with S3, killed with SIGKILL five times', () => {
  const bucket = useBucket('cli-s3-crash');
  beforeAll(() => assertBuilt());
  afterAll(() => cleanupTempDirs());

  describe('S3 (gzip CSV) -> Postgres upsert', () => {
    const url = process.env.FAUCET_TEST_POSTGRES_URL;
    let pool: pg.Pool | undefined;
    const schema = `s3crash_${randomBytes(4).toString('hex')}`;
    beforeAll(async () => {
      if (!url) throw new Error('FAUCET_TEST_POSTGRES_URL is not set (scripts/services.sh start)');
      pool = new pg.Pool({ connectionString: url, max: 2 });
      await pool.query(`CREATE SCHEMA ${schema}`);
      await pool.query(`CREATE TABLE ${schema}.tgt (id bigint PRIMARY KEY, name text, amount numeric)`);
    });
    afterAll(async () => {
      await pool?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool?.end();
    });
    const scalar = async (sql: string): Promise<number> =>
      Number((await (pool as pg.Pool).query<{ n: string }>(sql)).rows[0]?.n ?? 0);
    /** The number in the key of the last object the stored bookmark moved past (0: none yet). */
    const objectsDone = async (): Promise<number> => {
      try {
        const r = await (pool as pg.Pool).query<{ k: string | null }>(
          `SELECT value->'bookmark'->'after'->>'key' AS k FROM ${schema}.faucet_state WHERE key = $1`,
          [`${schema}::row-0`],
        );
        const key = r.rows[0]?.k;
        return key ? Number(/part-(\d+)/.exec(key)?.[1] ?? 0) : 0;
      } catch (error) {
        if ((error as { code?: unknown }).code === '42P01') return 0;
        throw error;
      }
    };

    it(`${OBJECTS} objects, ${OBJECTS * ROWS_PER_OBJECT} rows: target equals source; then 0 objects; then 10 new ones`, async () => {
      await uploadObjects(bucket.client(), bucket.name, 1, OBJECTS);
      const dir = tempDir('faucet-s3-crash-');
      write(
        join(dir, 'pipeline.yaml'),
        `version: 1
name: ${schema}
pipeline:
  source:
    type: s3
    config:
${s3Block(bucket.name)}
      glob: "in/**/*.csv.gz"
      typed: true
  sink:
    type: postgres
    config:
      connection_url: \${env:FAUCET_TEST_POSTGRES_URL}
      table: ${schema}.tgt
      write_mode: upsert
      key: [id]
  state:
    type: postgres
    config:
      connection_url: \${env:FAUCET_TEST_POSTGRES_URL}
      table: ${schema}.faucet_state
  batch_size: 1000
`,
      );
      const env = { ...s3Env(), FAUCET_TEST_POSTGRES_URL: url };
      const kills: string[] = [];
      let previous = 0;
      for (let run = 1; run <= KILLS; run++) {
        const low = Math.max(previous + 1, Math.floor(((run - 1) * OBJECTS) / 6) + 1);
        const target = randomInt(low, Math.max(low + 1, Math.floor((run * OBJECTS) / 6)));
        const delay = await killAt(dir, env, objectsDone, target, 40);
        const done = await objectsDone();
        expect(done).toBeGreaterThan(previous);
        expect(done).toBeLessThan(OBJECTS);
        kills.push(`#${run} after object ${target} + ${delay} ms (stored: ${done})`);
        previous = done;
      }
      const last = await runCli(['run', 'pipeline.yaml', '--output', 'json'], {
        cwd: dir,
        env,
        timeoutMs: 300_000,
      });
      expect(last.code, last.stderr).toBe(0);
      const total = OBJECTS * ROWS_PER_OBJECT;
      expect(await scalar(`SELECT count(*) AS n FROM ${schema}.tgt`)).toBe(total);
      expect(
        await scalar(
          `SELECT count(*) AS n FROM ${schema}.tgt WHERE name <> 'name ' || id OR amount <> (id % 1000) + 0.25 OR id < 1 OR id > ${total}`,
        ),
      ).toBe(0);

      const idle = JSON.parse(
        (await runCli(['run', 'pipeline.yaml', '--output', 'json'], { cwd: dir, env, timeoutMs: 120_000 }))
          .stdout,
      ) as Summary;
      expect(idle.status).toBe('ok');
      // No object is read: the only page is the final one that marks the listing complete.
      expect(idle.invocations[0]?.records_read).toBe(0);
      expect(idle.invocations[0]?.pages).toBe(1);
      expect(idle.records_written).toBe(0);

      await uploadObjects(bucket.client(), bucket.name, OBJECTS + 1, 10);
      const more = JSON.parse(
        (await runCli(['run', 'pipeline.yaml', '--output', 'json'], { cwd: dir, env, timeoutMs: 120_000 }))
          .stdout,
      ) as Summary;
      expect(more.invocations[0]?.records_read).toBe(10 * ROWS_PER_OBJECT);
      expect(more.invocations[0]?.pages).toBe(11);
      expect(more.records_written).toBe(10 * ROWS_PER_OBJECT);
      expect(await scalar(`SELECT count(*) AS n FROM ${schema}.tgt`)).toBe(total + 10 * ROWS_PER_OBJECT);
      console.log(`[s3-crash s3->pg] ${OBJECTS} objects; kills: ${kills.join('; ')}`);
    }, 1_800_000);
  });

  describe('file -> S3, effectively-once', () => {
    // Enough pages that a run killed up to 800 ms after its target still leaves a resumed run more
    // work than it can finish before its own kill (with 7 pages a fast run sometimes finished first).
    const ROWS = 220_000;
    const PAGE = 20_000;
    for (const format of ['jsonl', 'parquet'] as const) {
      it(`${format}${format === 'jsonl' ? '.gz' : ''}: every row exactly once; no unfinished upload after the clean run`, async () => {
        const dir = tempDir('faucet-s3-eo-');
        // Incompressible text, so a page (20,000 rows, ~6 MB) is a multipart upload of two parts.
        let text = '';
        for (let id = 1; id <= ROWS; id++) {
          text += `${JSON.stringify({ id, noise: randomBytes(150).toString('base64') })}\n`;
        }
        writeFileSync(join(dir, 'rows.jsonl'), text);
        const prefix = `eo-${format}/`;
        write(
          join(dir, 'pipeline.yaml'),
          `version: 1
name: eo_${format}
pipeline:
  source:
    type: file
    config:
      path: rows.jsonl
  sink:
    type: s3
    config:
${s3Block(bucket.name)}
      prefix: ${prefix}
      format: ${format}
      part_size_bytes: 5242880
  state:
    type: file
    config:
      path: state
  batch_size: ${PAGE}
  delivery: effectively_once
`,
        );
        const env = s3Env();
        const pagesDone = async () => {
          const entry = readStateDir(join(dir, 'state'))['eo_' + format + '::row-0'];
          const offset = (entry?.bookmark as { files?: Record<string, { offset: number }> } | undefined)
            ?.files?.['rows.jsonl']?.offset;
          return offset === undefined ? 0 : Math.round((offset / text.length) * (ROWS / PAGE));
        };
        let previous = 0;
        for (let run = 1; run <= KILLS; run++) {
          await killAt(dir, env, pagesDone, Math.min(run, ROWS / PAGE - 2), 800);
          const done = await pagesDone();
          expect(done).toBeGreaterThanOrEqual(previous);
          previous = done;
        }
        const last = await runCli(['run', 'pipeline.yaml', '--output', 'json'], {
          cwd: dir,
          env,
          timeoutMs: 300_000,
        });
        expect(last.code, last.stderr).toBe(0);
        const records = await readParts(bucket.client(), bucket.name, prefix);
        const ids = records.map((r) => Number(r.id));
        expect(ids.length).toBe(ROWS);
        expect(new Set(ids).size).toBe(ROWS);
        expect(await openUploads(bucket.client(), bucket.name, prefix)).toEqual([]);
        const keys = (await listKeys(bucket.client(), bucket.name, prefix)).filter(
          (k) => !k.includes('_faucet/'),
        );
        console.log(`[s3-crash file->s3 ${format}] ${keys.length} parts after ${KILLS} kills`);
      });
    }
  });
});
