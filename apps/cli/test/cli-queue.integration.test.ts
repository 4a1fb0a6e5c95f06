// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${env:…} interpolation
/**
 * Acceptance: `faucet run --queue` and `faucet worker` on the repository's Redis and PostgreSQL.
 * A file of 20 matrix rows (Postgres → Postgres upsert, state in Postgres) runs on three worker
 * processes; one worker is killed with SIGKILL in the middle of a row once that row has stored a
 * checkpoint. Its job is re-delivered by BullMQ's stalled-job check (short lock and stall intervals
 * here) and resumes from the stored bookmark on another worker; every row completes, each target
 * equals its source, and the submitting command prints the usual summary with exit code 0.
 *
 * Needs FAUCET_TEST_POSTGRES_URL and FAUCET_TEST_REDIS_URL (`scripts/services.sh start`); fails
 * without them in CI and is skipped elsewhere. Every test uses a queue name, schema and pipeline
 * name of its own.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { withRedis } from '@faucet/test-support';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  type CliResult,
  cleanupTempDirs,
  runCli,
  sleep,
  startCli,
  tempDir,
  withPostgres,
  write,
} from './helpers.js';

const ROWS = 20;
const RECORDS = 20_000;
const PAGE = 500;
const WORKERS = 3;

interface Summary {
  status: string;
  invocations: Array<{ state_key: string; status: string; records_read: number; records_written: number }>;
}

type Worker = ReturnType<typeof startCli>;

withPostgres('faucet run --queue with PostgreSQL', (pgUrl) => {
  withRedis('and Redis', (redisUrl) => {
    let pool: pg.Pool | undefined;
    const schemas: string[] = [];
    const workers: Worker[] = [];
    const db = (): pg.Pool => {
      if (!pool) throw new Error('the test pool is not ready');
      return pool;
    };
    const scalar = async (sql: string, params: unknown[] = []): Promise<number> => {
      const result = await db().query<{ n: string | number | null }>(sql, params);
      return Number(result.rows[0]?.n ?? 0);
    };

    beforeAll(() => {
      assertBuilt();
      pool = new pg.Pool({ connectionString: pgUrl, max: 2 });
    });
    afterAll(async () => {
      for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
      cleanupTempDirs();
      if (!pool) return;
      for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    });

    /** A schema with ROWS source tables of RECORDS rows each and their empty keyed targets. */
    async function createTables(schema: string, rows = ROWS, records = RECORDS): Promise<void> {
      schemas.push(schema);
      await db().query(`CREATE SCHEMA ${schema}`);
      for (let i = 0; i < rows; i++) {
        await db().query(`CREATE TABLE ${schema}.src_${i} (id bigint PRIMARY KEY, name text NOT NULL)`);
        await db().query(
          `INSERT INTO ${schema}.src_${i} SELECT g, 'row ${i} ' || g FROM generate_series(1, ${records}) AS g`,
        );
        await db().query(`CREATE TABLE ${schema}.tgt_${i} (id bigint PRIMARY KEY, name text)`);
      }
    }

    function pipelineFile(schema: string, state: 'postgres' | 'file', rows = ROWS): string {
      const dir = tempDir('faucet-queue-');
      const matrix = Array.from(
        { length: rows },
        (_, i) =>
          `  - { id: r${i}, source: { config: { table: ${schema}.src_${i} } }, sink: { config: { table: ${schema}.tgt_${i} } } }`,
      ).join('\n');
      const stateBlock =
        state === 'postgres'
          ? `{ type: postgres, config: { connection_url: "\${env:FAUCET_TEST_POSTGRES_URL}", table: ${schema}.faucet_state } }`
          : '{ type: file, config: { path: ./state } }';
      write(
        join(dir, 'pipeline.yaml'),
        `version: 1
name: ${schema}
pipeline:
  source:
    type: postgres
    config:
      connection_url: \${env:FAUCET_TEST_POSTGRES_URL}
      replication_method: { type: Incremental, cursor_field: id }
      primary_keys: [id]
  sink:
    type: postgres
    config:
      connection_url: \${env:FAUCET_TEST_POSTGRES_URL}
      write_mode: upsert
      key: [id]
  state: ${stateBlock}
  batch_size: ${PAGE}
matrix:
${matrix}
`,
      );
      return dir;
    }

    const env = { FAUCET_TEST_POSTGRES_URL: pgUrl };

    function startWorker(dir: string, queue: string): Worker {
      const worker = startCli(
        [
          'worker',
          '--queue',
          redisUrl,
          '--queue-name',
          queue,
          '--lock-duration',
          '2000',
          '--stalled-interval',
          '500',
        ],
        { cwd: dir, env, timeoutMs: 300_000 },
      );
      workers.push(worker);
      return worker;
    }

    /** The state key a worker is running now (started and not finished), if any. */
    function running(worker: Worker): string | undefined {
      const open = new Set<string>();
      for (const line of worker.output().stderr.split('\n')) {
        const started = /^started (\S+)/.exec(line);
        if (started?.[1]) open.add(started[1]);
        const finished = /^finished (\S+):/.exec(line);
        if (finished?.[1]) open.delete(finished[1]);
      }
      return [...open][0];
    }

    async function storedOffset(schema: string, key: string): Promise<number> {
      try {
        return await scalar(
          `SELECT (value->'bookmark'->'after'->>0)::bigint AS n FROM ${schema}.faucet_state WHERE key = $1`,
          [key],
        );
      } catch (error) {
        if ((error as { code?: unknown }).code === '42P01') return 0;
        throw error;
      }
    }

    /**
     * Wait for a worker in the middle of a row that has stored a checkpoint, and kill it with SIGKILL
     * (unless `kill` is false); the worker and the row's state key.
     */
    async function killMidRow(
      schema: string,
      pool: Worker[],
      kill = true,
    ): Promise<{ victim: Worker; key: string }> {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        for (const worker of pool) {
          const key = running(worker);
          if (key === undefined) continue;
          const offset = await storedOffset(schema, key);
          if (offset > 0 && offset < RECORDS - 2 * PAGE) {
            if (kill) worker.child.kill('SIGKILL');
            return { victim: worker, key };
          }
        }
        await sleep(5);
      }
      throw new Error('no worker was found in the middle of a row');
    }

    describe('20 matrix rows on 3 workers', () => {
      it("every row runs to its end once a killed worker's job is re-delivered; targets equal sources", async () => {
        const schema = `queue_${randomBytes(4).toString('hex')}`;
        const queue = `q_${schema}`;
        await createTables(schema);
        const dir = pipelineFile(schema, 'postgres');
        const pool = Array.from({ length: WORKERS }, () => startWorker(dir, queue));

        const submit = startCli(
          ['run', 'pipeline.yaml', '--queue', redisUrl, '--queue-name', queue, '-o', 'json'],
          {
            cwd: dir,
            env,
            timeoutMs: 300_000,
          },
        );
        const { victim, key } = await killMidRow(schema, pool);
        const killed = await victim.done;
        expect(killed.signal).toBe('SIGKILL');

        const result: CliResult = await submit.done;
        expect(result.code, result.stderr).toBe(0);
        const summary = JSON.parse(result.stdout) as Summary;
        expect(summary.status).toBe('ok');
        expect(summary.invocations).toHaveLength(ROWS);
        expect(summary.invocations.every((i) => i.status === 'ok')).toBe(true);
        // The killed row resumed from its stored bookmark: its last run read only the rest.
        const resumed = summary.invocations.find((i) => i.state_key === key);
        expect(resumed?.records_read).toBeGreaterThan(0);
        expect(resumed?.records_read).toBeLessThan(RECORDS);

        for (let i = 0; i < ROWS; i++) {
          const missing = await scalar(
            `SELECT count(*) AS n FROM ${schema}.src_${i} s LEFT JOIN ${schema}.tgt_${i} t USING (id)
             WHERE t.name IS DISTINCT FROM s.name`,
          );
          expect(missing, `tgt_${i} differs from src_${i}`).toBe(0);
          expect(await scalar(`SELECT count(*) AS n FROM ${schema}.tgt_${i}`)).toBe(RECORDS);
        }
        // Every row ran to its end on some worker; the killed one's row started twice.
        const logs = pool.map((w) => w.output().stderr).join('\n');
        for (let i = 0; i < ROWS; i++) expect(logs).toContain(`finished ${schema}::r${i}: ok`);
        const starts = (k: string) => logs.split('\n').filter((l) => l.startsWith(`started ${k} `)).length;
        expect(starts(key)).toBe(2);
        // Every other row was taken by exactly one worker, once.
        for (let i = 0; i < ROWS; i++) {
          if (`${schema}::r${i}` !== key) expect(starts(`${schema}::r${i}`), `row r${i}`).toBe(1);
        }

        for (const worker of pool) if (worker !== victim) worker.child.kill('SIGTERM');
        for (const worker of pool) {
          if (worker === victim) continue;
          const end = await worker.done;
          expect(end.code, end.stderr).toBe(0);
        }
      });
    });

    describe('faucet runs', () => {
      it('--detach gives the run id; list and show find it; cancel removes waiting jobs and stops a running one after its page', async () => {
        const schema = `queue_${randomBytes(4).toString('hex')}`;
        const queue = `q_${schema}`;
        // Rows long enough that the cancel, seen by the worker within a second, lands inside one.
        const rows = 3;
        await createTables(schema, rows, 300_000);
        const dir = pipelineFile(schema, 'postgres', rows);
        const flags = ['--queue', redisUrl, '--queue-name', queue];
        const submitted = await runCli(['run', 'pipeline.yaml', ...flags, '--detach'], { cwd: dir, env });
        expect(submitted.code, submitted.stderr).toBe(0);
        const runId = submitted.stdout.trim();
        expect(runId).toMatch(/^[0-9a-f-]{36}$/);

        const list = await runCli(['runs', 'list', ...flags, '-o', 'json'], { cwd: dir });
        expect(list.code, list.stderr).toBe(0);
        const listed = JSON.parse(list.stdout) as Array<{ run_id: string; jobs: Record<string, number> }>;
        expect(listed.map((r) => r.run_id)).toEqual([runId]);
        expect(listed[0]?.jobs).toEqual({ waiting: rows });

        // One worker takes the first job; once that row has stored a checkpoint, the run is cancelled.
        const worker = startWorker(dir, queue);
        await killMidRow(schema, [worker], false);
        const cancel = await runCli(['runs', 'cancel', runId, ...flags, '-o', 'json'], { cwd: dir });
        expect(cancel.code, cancel.stderr).toBe(0);
        const cancelled = JSON.parse(cancel.stdout) as {
          removed: string[];
          signalled: string[];
          ended: string[];
        };
        // The worker may have finished rows before the one it was in when the cancel came.
        expect(cancelled.signalled).toHaveLength(1);
        expect(cancelled.removed.length + cancelled.signalled.length + cancelled.ended.length).toBe(rows);

        type Shown = { jobs: Array<{ state_key: string; state: string }> };
        let shown: Shown = { jobs: [] };
        for (;;) {
          const show = await runCli(['runs', 'show', runId, ...flags, '-o', 'json'], { cwd: dir });
          expect(show.code, show.stderr).toBe(0);
          shown = JSON.parse(show.stdout) as Shown;
          if (!shown.jobs.some((j) => j.state === 'active')) break;
          await sleep(100);
        }
        const states = shown.jobs.map((j) => j.state);
        expect(
          states.filter((state) => state === 'cancelled'),
          JSON.stringify(shown),
        ).toHaveLength(cancelled.removed.length + cancelled.signalled.length);
        expect(states.filter((state) => state === 'ok')).toHaveLength(cancelled.ended.length);
        // The running row stopped after a page: its checkpoint covers exactly what its target holds.
        expect(worker.output().stderr).toMatch(/finished \S+: cancelled/);
        const key = (cancelled.signalled[0] ?? '').replaceAll('|', ':');
        const index = Number(key.split('::r')[1]);
        const written = await scalar(`SELECT count(*) AS n FROM ${schema}.tgt_${index}`);
        expect(written).toBeGreaterThan(0);
        expect(written).toBeLessThan(300_000);
        expect(await storedOffset(schema, key)).toBe(written);
        worker.child.kill('SIGTERM');
        expect((await worker.done).code).toBe(0);

        const unknown = await runCli(['runs', 'show', 'no-such-run', ...flags], { cwd: dir });
        expect(unknown.code).toBe(2);
        expect(unknown.stderr).toContain('no run no-such-run');
      });
    });

    describe('Ctrl-C on the submitter', () => {
      it('cancels the run: the running row stops after a page, the rest never start; exit 130', async () => {
        const schema = `queue_${randomBytes(4).toString('hex')}`;
        const queue = `q_${schema}`;
        const rows = 3;
        await createTables(schema, rows, 300_000);
        const dir = pipelineFile(schema, 'postgres', rows);
        const worker = startWorker(dir, queue);
        const submit = startCli(
          ['run', 'pipeline.yaml', '--queue', redisUrl, '--queue-name', queue, '-o', 'json'],
          {
            cwd: dir,
            env,
            timeoutMs: 300_000,
          },
        );
        const { key } = await killMidRow(schema, [worker], false);
        submit.child.kill('SIGINT');
        const result = await submit.done;
        expect(result.code, result.stderr).toBe(130);
        expect(result.stderr).toContain('SIGINT: cancelling the run');
        const summary = JSON.parse(result.stdout) as Summary;
        expect(summary.status).toBe('cancelled');
        const stopped = summary.invocations.find((i) => i.state_key === key);
        expect(stopped?.status).toBe('cancelled');
        expect(summary.invocations.every((i) => i.status === 'cancelled' || i.status === 'ok')).toBe(true);
        const index = Number(key.split('::r')[1]);
        const written = await scalar(`SELECT count(*) AS n FROM ${schema}.tgt_${index}`);
        expect(written).toBeLessThan(300_000);
        expect(await storedOffset(schema, key)).toBe(written);
        worker.child.kill('SIGTERM');
        expect((await worker.done).code).toBe(0);
      });
    });

    describe('refusals', () => {
      it('a file state store is refused with exit 2 before anything is queued', async () => {
        const schema = `queue_${randomBytes(4).toString('hex')}`;
        const dir = pipelineFile(schema, 'file');
        const result = await runCli(
          ['run', 'pipeline.yaml', '--queue', redisUrl, '--queue-name', `q_${schema}`],
          {
            cwd: dir,
            env,
          },
        );
        expect(result.code).toBe(2);
        expect(result.stderr).toContain('the "file" state store lives on one machine');
      });

      it('an unreachable Redis is one error naming host:port, for run and worker', async () => {
        const schema = `queue_${randomBytes(4).toString('hex')}`;
        await createTables(schema);
        const dir = pipelineFile(schema, 'postgres');
        const run = await runCli(['run', 'pipeline.yaml', '--queue', 'redis://127.0.0.1:1'], {
          cwd: dir,
          env,
        });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain("cannot reach the queue's Redis at 127.0.0.1:1");
        const worker = await runCli(['worker', '--queue', 'redis://127.0.0.1:1'], { cwd: dir, env });
        expect(worker.code).toBe(1);
        expect(worker.stderr).toContain("cannot reach the queue's Redis at 127.0.0.1:1");
      });

      it('--detach without --queue, and --limit with it, are usage errors', async () => {
        const dir = tempDir('faucet-queue-');
        const detach = await runCli(['run', 'pipeline.yaml', '--detach'], { cwd: dir });
        expect(detach.code).toBe(2);
        expect(detach.stderr).toContain('--detach needs --queue');
        const limit = await runCli(['run', 'pipeline.yaml', '--queue', redisUrl, '--limit', '5'], {
          cwd: dir,
        });
        expect(limit.code).toBe(2);
        expect(limit.stderr).toContain('--limit cannot be used with --queue');
      });
    });
  });
});
