// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${env:…} interpolation
/**
 * Acceptance: `faucet run` on a Postgres → Postgres pipeline of 200,000 rows with its state in
 * Postgres, killed with SIGKILL at three random moments, then run to its end. The target then holds
 * exactly the source rows: no duplicate in upsert mode, none with effectively-once append, and with
 * plain append at most one page per kill (exactly the rows the sink had committed past the stored
 * checkpoint when each kill came). A further run moves nothing.
 *
 * Needs the repository's PostgreSQL (FAUCET_TEST_POSTGRES_URL: `scripts/services.sh start`, then
 * `eval "$(scripts/services.sh env)"`). Without it the file fails in CI (CI or
 * FAUCET_REQUIRE_SERVICES=1) and is skipped, saying why, elsewhere. The connectors are found in the
 * CLI's own node_modules (they are devDependencies of @faucet/cli). Each case works in a schema of its
 * own (source, target, state table and commit tokens) under a state key of its own.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  cleanupTempDirs,
  runCli,
  sleep,
  startCli,
  tempDir,
  withPostgres,
  write,
} from './helpers.js';

const ROWS = 200_000;
const PAGE = 1000;
const KILLS = 3;

interface Case {
  id: string;
  title: string;
  writeMode: 'append' | 'upsert';
  delivery: 'at_least_once' | 'effectively_once';
  /** The target has a primary key on id. */
  targetKey: boolean;
  maxDuplicates: number;
}

const CASES: Case[] = [
  {
    id: 'upsert',
    title: 'upsert into a keyed target: no duplicates',
    writeMode: 'upsert',
    delivery: 'at_least_once',
    targetKey: true,
    maxDuplicates: 0,
  },
  {
    id: 'eo',
    title: 'effectively-once append: no duplicates',
    writeMode: 'append',
    delivery: 'effectively_once',
    targetKey: false,
    maxDuplicates: 0,
  },
  {
    id: 'append',
    title: 'plain append: duplicates at most one page per kill',
    writeMode: 'append',
    delivery: 'at_least_once',
    targetKey: false,
    maxDuplicates: KILLS * PAGE,
  },
];

interface Kill {
  run: number;
  /** The run was killed once the stored checkpoint reached this id (plus a random delay). */
  targetId: number;
  delayMs: number;
  /** Milliseconds from the start of the process to the kill. */
  atMs: number;
  /** The id of the stored checkpoint after the kill (ids are in keyset order here). */
  checkpointId: number;
  /** Rows in the target after the kill, and those of them past the stored checkpoint. */
  targetRows: number;
  pastCheckpoint: number;
}

interface Summary {
  status: string;
  records_written: number;
  invocations: Array<{ state_key: string; status: string; records_written: number; pages_skipped: number }>;
}

withPostgres('with PostgreSQL', (url) => {
  let pool: pg.Pool | undefined;
  const schemas: string[] = [];
  const db = (): pg.Pool => {
    if (!pool) throw new Error('the test pool is not ready');
    return pool;
  };

  beforeAll(() => {
    assertBuilt();
    pool = new pg.Pool({ connectionString: url, max: 2 });
  });
  afterAll(async () => {
    cleanupTempDirs();
    if (!pool) return;
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  /** One number from a query whose single column is `n`. */
  const scalar = async (sql: string, params: unknown[] = []): Promise<number> => {
    const result = await db().query<{ n: string | number | null }>(sql, params);
    return Number(result.rows[0]?.n ?? 0);
  };

  /** The id of the row the stored bookmark stands after (0 before the first checkpoint). */
  const checkpointId = async (schema: string, key: string): Promise<number> => {
    try {
      return await scalar(
        `SELECT (value->'bookmark'->'after'->>1)::bigint AS n FROM ${schema}.faucet_state WHERE key = $1`,
        [key],
      );
    } catch (error) {
      // The state store creates its table on first use.
      if ((error as { code?: unknown }).code === '42P01') return 0;
      throw error;
    }
  };

  /** Every run connects with its own application_name, so its sessions can be told apart. */
  const runUrl = (tag: string): string => {
    const tagged = new URL(url);
    tagged.searchParams.set('application_name', tag);
    return tagged.toString();
  };

  /** Wait until the server has ended every session of a killed run (and so dropped its lock). */
  const sessionsGone = async (tag: string): Promise<void> => {
    const deadline = Date.now() + 15_000;
    while (
      (await scalar('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [tag])) > 0
    ) {
      if (Date.now() > deadline) throw new Error(`the sessions of ${tag} are still open 15 s after the kill`);
      await sleep(20);
    }
  };

  describe('faucet run on Postgres → Postgres, killed with SIGKILL three times', () => {
    for (const c of CASES) {
      it(c.title, async () => {
        const t0 = performance.now();
        const schema = `pgcrash_${c.id}_${randomBytes(4).toString('hex')}`;
        schemas.push(schema);
        const key = `${schema}::row-0`;
        await db().query(`CREATE SCHEMA ${schema}`);
        await db().query(
          `CREATE TABLE ${schema}.src (id bigint PRIMARY KEY, name text NOT NULL, amount numeric NOT NULL,
             updated_at timestamptz NOT NULL)`,
        );
        // Runs of 7 rows share one updated_at, so page boundaries fall inside ties.
        await db().query(
          `INSERT INTO ${schema}.src
           SELECT g, 'name ' || g, (g % 1000) + 0.25,
                  timestamptz '2024-01-01 00:00:00Z' + (g / 7) * interval '1 second'
           FROM generate_series(1, ${ROWS}) AS g`,
        );
        await db().query(
          `CREATE TABLE ${schema}.tgt (id bigint ${c.targetKey ? 'PRIMARY KEY' : 'NOT NULL'}, name text,
             amount numeric, updated_at timestamptz)`,
        );

        const dir = tempDir('faucet-pg-crash-');
        write(
          join(dir, 'pipeline.yaml'),
          `version: 1
name: ${schema}
pipeline:
  source:
    type: postgres
    config:
      connection_url: \${env:FAUCET_TEST_POSTGRES_URL}
      table: ${schema}.src
      replication_method: { type: Incremental, cursor_field: updated_at }
      primary_keys: [id]
  sink:
    type: postgres
    config:
      connection_url: \${env:FAUCET_TEST_POSTGRES_URL}
      table: ${schema}.tgt
      write_mode: ${c.writeMode}
${c.writeMode === 'upsert' ? '      key: [id]\n' : ''}  state:
    type: postgres
    config:
      connection_url: \${env:FAUCET_TEST_POSTGRES_URL}
      table: ${schema}.faucet_state
  batch_size: ${PAGE}
  delivery: ${c.delivery}
`,
        );
        const env = (tag: string): NodeJS.ProcessEnv => ({ FAUCET_TEST_POSTGRES_URL: runUrl(tag) });

        const kills: Kill[] = [];
        let previous = 0;
        for (let run = 1; run <= KILLS; run++) {
          // A random checkpoint in the run-th quarter of the table (and past the previous kill's),
          // then a random delay, so the kill lands anywhere in a page's read/write/commit/checkpoint.
          const low = Math.max(previous + PAGE, ((run - 1) * ROWS) / 4 + PAGE);
          const targetId = randomInt(low, (run * ROWS) / 4);
          const delayMs = randomInt(0, 30);
          const tag = `${schema}_r${run}`;
          const started = performance.now();
          const cli = startCli(['run', 'pipeline.yaml'], {
            cwd: dir,
            env: env(tag),
            timeoutMs: 60_000,
            lowPriority: true,
          });
          let exited = false;
          void cli.done.then(() => {
            exited = true;
          });
          const deadline = Date.now() + 45_000;
          while ((await checkpointId(schema, key)) < targetId) {
            if (exited) {
              const { stderr } = await cli.done;
              throw new Error(`run ${run} ended before its checkpoint reached id ${targetId}:\n${stderr}`);
            }
            if (Date.now() > deadline) throw new Error(`run ${run} made no progress to id ${targetId}`);
            await sleep(5);
          }
          await sleep(delayMs);
          const atMs = Math.round(performance.now() - started);
          cli.child.kill('SIGKILL');
          const killed = await cli.done;
          expect(killed.signal, `run ${run} had ended before the kill: ${killed.stderr}`).toBe('SIGKILL');
          await sessionsGone(tag);
          const stored = await checkpointId(schema, key);
          expect(stored, `run ${run} moved the checkpoint past the previous kill's`).toBeGreaterThan(
            previous,
          );
          expect(stored, `run ${run} was killed before the end`).toBeLessThan(ROWS);
          kills.push({
            run,
            targetId,
            delayMs,
            atMs,
            checkpointId: stored,
            targetRows: await scalar(`SELECT count(*) AS n FROM ${schema}.tgt`),
            pastCheckpoint: await scalar(`SELECT count(*) AS n FROM ${schema}.tgt WHERE id > $1`, [stored]),
          });
          previous = stored;
        }

        const rowsBefore = await scalar(`SELECT count(*) AS n FROM ${schema}.tgt`);
        const last = await runCli(['run', 'pipeline.yaml', '--output', 'json'], {
          cwd: dir,
          env: env(`${schema}_r${KILLS + 1}`),
          timeoutMs: 60_000,
        });
        expect(last.code, last.stderr).toBe(0);
        const summary = JSON.parse(last.stdout) as Summary;
        expect(summary.status).toBe('ok');
        expect(summary.invocations[0]?.state_key).toBe(key);

        // The target holds exactly the source's rows, with the same values.
        const total = await scalar(`SELECT count(*) AS n FROM ${schema}.tgt`);
        const distinct = await scalar(`SELECT count(DISTINCT id) AS n FROM ${schema}.tgt`);
        const missing = await scalar(
          `SELECT count(*) AS n FROM ${schema}.src s LEFT JOIN ${schema}.tgt t USING (id) WHERE t.id IS NULL`,
        );
        const extra = await scalar(
          `SELECT count(*) AS n FROM ${schema}.tgt t LEFT JOIN ${schema}.src s USING (id) WHERE s.id IS NULL`,
        );
        const changed = await scalar(
          `SELECT count(*) AS n FROM ${schema}.src s JOIN ${schema}.tgt t USING (id)
           WHERE (s.name, s.amount, s.updated_at) IS DISTINCT FROM (t.name, t.amount, t.updated_at)`,
        );
        const duplicates = total - distinct;
        expect(missing, 'source rows missing from the target').toBe(0);
        expect(extra, 'target rows that are not in the source').toBe(0);
        expect(changed, 'target rows whose values differ from the source').toBe(0);
        expect(distinct).toBe(ROWS);
        expect(duplicates).toBeLessThanOrEqual(c.maxDuplicates);
        if (c.maxDuplicates === 0) expect(total).toBe(ROWS);
        if (c.writeMode === 'append') {
          // Appending runs add exactly what they report written.
          expect(total).toBe(rowsBefore + summary.records_written);
        }
        if (c.delivery === 'at_least_once' && c.writeMode === 'append') {
          // Each duplicate is a row the sink had committed past the stored checkpoint at a kill,
          // written again by the next run: never more than one page per kill.
          for (const kill of kills) expect(kill.pastCheckpoint).toBeLessThanOrEqual(PAGE);
          expect(duplicates).toBe(kills.reduce((sum, kill) => sum + kill.pastCheckpoint, 0));
        }

        // The state row stands after the last source row.
        const state = await db().query<{ value: { bookmark?: { after?: unknown[] } } }>(
          `SELECT value FROM ${schema}.faucet_state WHERE key = $1`,
          [key],
        );
        expect(state.rows).toHaveLength(1);
        expect(state.rows[0]?.value.bookmark?.after?.[1]).toBe(String(ROWS));
        if (c.delivery === 'effectively_once') {
          const token = await scalar(
            `SELECT count(*) AS n FROM ${schema}._faucet_commit_token WHERE scope = $1`,
            [key],
          );
          expect(token, 'the sink holds the commit token of this state key').toBe(1);
        }

        // A further run moves nothing.
        const again = await runCli(['run', 'pipeline.yaml', '--output', 'json'], {
          cwd: dir,
          env: env(`${schema}_r${KILLS + 2}`),
          timeoutMs: 60_000,
        });
        expect(again.code, again.stderr).toBe(0);
        const idle = JSON.parse(again.stdout) as Summary;
        expect(idle.records_written).toBe(0);
        expect(idle.invocations[0]?.state_key).toBe(key);
        expect(await scalar(`SELECT count(*) AS n FROM ${schema}.tgt`)).toBe(total);

        console.log(
          `[pg-crash ${c.id}] kills: ` +
            kills
              .map(
                (k) =>
                  `#${k.run} at ${k.atMs} ms (checkpoint >= ${k.targetId} + ${k.delayMs} ms; stored id ` +
                  `${k.checkpointId}, target ${k.targetRows} rows, ${k.pastCheckpoint} past the checkpoint)`,
              )
              .join('; ') +
            `; final run wrote ${summary.records_written} (${summary.invocations[0]?.pages_skipped ?? 0} ` +
            `pages skipped); target ${total} rows, ${distinct} distinct, ${duplicates} duplicates; ` +
            `${Math.round(performance.now() - t0)} ms`,
        );
      });
    }
  });
});
