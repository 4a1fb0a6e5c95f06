// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${env:…} interpolation
/**
 * A database restart during a run (`pg_ctl restart -m fast`, a Redis restart) is a failover, not a
 * crash: `faucet run` fails with faucet's own error naming the server (exit 1, as documented), prints
 * no raw stack trace and no "Unhandled 'error' event", and the next run resumes to the end.
 *
 * The servers restarted here are private throwaway ones (@faucet/test-support starts them on free
 * ports): the shared PostgreSQL and Redis of scripts/services.sh are never restarted. They need the
 * binaries scripts/services.sh installs, so the file is gated on those services like the other
 * integration tests (fails in CI without them, skipped elsewhere, saying why).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type PrivatePostgres, usePrivatePostgres, usePrivateRedis, withRedis } from '@faucet/test-support';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  assertBuilt,
  type CliResult,
  cleanupTempDirs,
  fakePluginDir,
  readJsonl,
  runCli,
  sleep,
  startCli,
  tempDir,
  withPostgres,
  write,
} from './helpers.js';

interface Summary {
  status: string;
  records_written: number;
  invocations: Array<{ status: string; records_written: number; error?: { code: string; message: string } }>;
}

/** A failed run that reads like faucet's own failure: exit 1, one FaucetError naming the server. */
function expectCleanFailure(result: CliResult, server: string): Summary['invocations'][number]['error'] {
  const where = `exit ${result.code}, stderr:\n${result.stderr}`;
  expect(result.stderr, where).not.toContain("Unhandled 'error' event");
  expect(result.stderr, where).not.toContain('node:events');
  // A raw stack trace has lines starting with "    at ".
  expect(result.stderr, where).not.toMatch(/^\s+at \S/m);
  expect(result.signal, where).toBeNull();
  expect(result.code, where).toBe(1);
  const summary = JSON.parse(result.stdout) as Summary;
  expect(summary.status).toBe('failed');
  const error = summary.invocations[0]?.error;
  expect(error?.code, where).toBe('CONNECTION_FAILED');
  expect(error?.message, where).toContain(server);
  return error;
}

/** Poll `read` until it reaches `target` (while the run is still going). */
async function waitUntil(
  what: string,
  read: () => Promise<number>,
  target: number,
  cli: ReturnType<typeof startCli>,
): Promise<void> {
  let exited = false;
  void cli.done.then(() => {
    exited = true;
  });
  const deadline = Date.now() + 60_000;
  while ((await read()) < target) {
    if (exited)
      throw new Error(`the run ended before ${what} reached ${target}:\n${(await cli.done).stderr}`);
    if (Date.now() > deadline) throw new Error(`${what} did not reach ${target}:\n${cli.output().stderr}`);
    await sleep(10);
  }
}

withPostgres('faucet run while its PostgreSQL restarts', () => {
  const privatePg = usePrivatePostgres();
  const handle = (): PrivatePostgres => privatePg.server;
  let pool: pg.Pool | undefined;
  const db = (): pg.Pool => {
    if (!pool) throw new Error('the test pool is not ready');
    return pool;
  };

  beforeAll(() => {
    assertBuilt();
    pool = new pg.Pool({ connectionString: handle().url, max: 2 });
    // The test's own connections die with each restart too.
    pool.on('error', () => {});
  });
  afterAll(async () => {
    cleanupTempDirs();
    await pool?.end();
  });

  const scalar = async (sql: string, params: unknown[] = []): Promise<number> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await db().query<{ n: string | number | null }>(sql, params);
        return Number(result.rows[0]?.n ?? 0);
      } catch (error) {
        // Right after a restart the server may still refuse connections for a moment.
        if (attempt >= 50 || (error as { code?: unknown }).code === '42P01') throw error;
        await sleep(100);
      }
    }
  };

  it('Postgres -> Postgres with Postgres state: a restart fails the run cleanly, twice; reruns finish it', async () => {
    const rows = 60_000;
    const schema = `restart_${randomBytes(4).toString('hex')}`;
    const key = `${schema}::row-0`;
    await db().query(`CREATE SCHEMA ${schema}`);
    await db().query(
      `CREATE TABLE ${schema}.src (id bigint PRIMARY KEY, name text NOT NULL, amount numeric NOT NULL)`,
    );
    await db().query(
      `INSERT INTO ${schema}.src SELECT g, 'name ' || g, (g % 1000) + 0.25 FROM generate_series(1, ${rows}) g`,
    );
    await db().query(`CREATE TABLE ${schema}.tgt (id bigint PRIMARY KEY, name text, amount numeric)`);
    const dir = tempDir('faucet-pg-restart-');
    write(
      join(dir, 'pipeline.yaml'),
      `version: 1
name: ${schema}
pipeline:
  source:
    type: postgres
    config:
      connection_url: \${env:PRIVATE_PG}
      table: ${schema}.src
      replication_method: { type: Incremental, cursor_field: id }
      # The source holds a cursor's transaction across the restart. (Streamed through COPY, these 60k
      # rows can all be in the socket's buffers before the restart, and the retried sink then finishes
      # the run: the COPY case is the source's own restart test, on a table too big for that.)
      read_method: cursor
  sink:
    type: postgres
    config:
      connection_url: \${env:PRIVATE_PG}
      table: ${schema}.tgt
      write_mode: upsert
      key: [id]
  state:
    type: postgres
    config:
      connection_url: \${env:PRIVATE_PG}
      table: ${schema}.faucet_state
  batch_size: 500
`,
    );
    const env = { PRIVATE_PG: handle().url };
    const server = `127.0.0.1:${handle().port}`;
    const checkpoint = () =>
      scalar(
        `SELECT (value->'bookmark'->'after'->>0)::bigint AS n FROM ${schema}.faucet_state WHERE key = $1`,
        [key],
      ).catch((error: unknown) => {
        if ((error as { code?: unknown }).code === '42P01') return 0;
        throw error;
      });

    const errors: string[] = [];
    for (const target of [5_000, 30_000]) {
      const cli = startCli(['run', 'pipeline.yaml', '--output', 'json'], {
        cwd: dir,
        env,
        timeoutMs: 90_000,
      });
      await waitUntil('the stored checkpoint', checkpoint, target, cli);
      await handle().restart();
      const failed = await cli.done;
      errors.push(expectCleanFailure(failed, server)?.message ?? '');
      expect(await checkpoint()).toBeLessThan(rows);
    }

    const last = await runCli(['run', 'pipeline.yaml', '--output', 'json'], {
      cwd: dir,
      env,
      timeoutMs: 90_000,
    });
    expect(last.code, last.stderr).toBe(0);
    expect(await checkpoint()).toBe(rows);
    const differences = await scalar(
      `SELECT count(*) AS n FROM (
         (SELECT id, name, amount FROM ${schema}.src EXCEPT ALL SELECT id, name, amount FROM ${schema}.tgt)
         UNION ALL
         (SELECT id, name, amount FROM ${schema}.tgt EXCEPT ALL SELECT id, name, amount FROM ${schema}.src)
       ) d`,
    );
    expect(differences, 'rows that differ between source and target').toBe(0);
    console.log(`[pg-restart] errors: ${errors.join(' | ')}`);
  });

  it('Postgres CDC -> Postgres with Postgres state: a restart fails the run cleanly; the rerun catches up', async () => {
    const schema = `cdcrestart_${randomBytes(4).toString('hex')}`;
    await db().query(`CREATE SCHEMA ${schema}`);
    await db().query(`CREATE TABLE ${schema}.src (id bigint PRIMARY KEY, name text NOT NULL)`);
    await db().query(`INSERT INTO ${schema}.src SELECT g, 'seed ' || g FROM generate_series(1, 2000) g`);
    await db().query(`CREATE TABLE ${schema}.tgt (id bigint PRIMARY KEY, name text)`);
    await db().query(`CREATE PUBLICATION ${schema}_pub FOR TABLE ${schema}.src`);
    const dir = tempDir('faucet-cdc-restart-');
    const pipeline = (idle: string) => `version: 1
name: ${schema}
pipeline:
  source:
    type: postgres-cdc
    config:
      connection_url: \${env:PRIVATE_PG}
      slot_name: ${schema}_slot
      publication_name: ${schema}_pub
      idle_timeout: ${idle}
  transforms:
    - type: cdc_unwrap
  sink:
    type: postgres
    config:
      connection_url: \${env:PRIVATE_PG}
      table: ${schema}.tgt
      write_mode: upsert
      key: [id]
      delete_marker: { field: __op, values: [delete] }
  state:
    type: postgres
    config:
      connection_url: \${env:PRIVATE_PG}
      table: ${schema}.faucet_state
  batch_size: 200
`;
    write(join(dir, 'streaming.yaml'), pipeline('60s'));
    write(join(dir, 'catch-up.yaml'), pipeline('2s'));
    const env = { PRIVATE_PG: handle().url };
    const server = `127.0.0.1:${handle().port}`;

    const cli = startCli(['run', 'streaming.yaml', '--output', 'json'], { cwd: dir, env, timeoutMs: 90_000 });
    // Past the snapshot and streaming: rows written in transactions of their own reach the target.
    await waitUntil('the target', () => scalar(`SELECT count(*) AS n FROM ${schema}.tgt`), 2000, cli);
    let next = 2001;
    const insert = async (count: number) => {
      for (let i = 0; i < count; i++, next++) {
        await scalar(`INSERT INTO ${schema}.src VALUES ($1::bigint, 'live ' || $1::text) RETURNING 1 AS n`, [
          next,
        ]);
      }
    };
    await insert(100);
    await waitUntil('the target', () => scalar(`SELECT count(*) AS n FROM ${schema}.tgt`), 2100, cli);
    await handle().restart();
    expectCleanFailure(await cli.done, server);

    // Changes made while no run streams are picked up by the next one, from the stored position.
    await insert(100);
    await scalar(`UPDATE ${schema}.src SET name = 'changed' WHERE id % 10 = 0 RETURNING 1 AS n`);
    const last = await runCli(['run', 'catch-up.yaml', '--output', 'json'], {
      cwd: dir,
      env,
      timeoutMs: 90_000,
    });
    expect(last.code, last.stderr).toBe(0);
    const differences = await scalar(
      `SELECT count(*) AS n FROM (
         (SELECT id, name FROM ${schema}.src EXCEPT ALL SELECT id, name FROM ${schema}.tgt)
         UNION ALL
         (SELECT id, name FROM ${schema}.tgt EXCEPT ALL SELECT id, name FROM ${schema}.src)
       ) d`,
    );
    expect(differences, 'rows that differ between source and target').toBe(0);
  });
});

withRedis('faucet run while its Redis state store restarts', () => {
  const redis = usePrivateRedis({ persistent: true });
  beforeAll(() => assertBuilt());
  afterAll(() => cleanupTempDirs());

  it('a Redis restart mid-run is retried or fails the run cleanly; the next run resumes to the end', async () => {
    const total = 400;
    const dir = tempDir('faucet-redis-restart-');
    const plugins = fakePluginDir();
    const name = `redisrestart_${randomBytes(4).toString('hex')}`;
    write(
      join(dir, 'pipeline.yaml'),
      `version: 1
name: ${name}
pipeline:
  source: { type: fake, config: { count: ${total}, delay_ms: 50 } }
  sink: { type: file, config: { path: out.jsonl, format: jsonl } }
  state: { type: redis, config: { connection_url: "\${env:PRIVATE_REDIS}" } }
  batch_size: 10
`,
    );
    const env = { PRIVATE_REDIS: redis.server.url, FAUCET_PLUGIN_PATH: plugins };
    const cli = startCli(['run', 'pipeline.yaml', '--output', 'json'], { cwd: dir, env, timeoutMs: 90_000 });
    const written = async () => readJsonl(join(dir, 'out.jsonl')).length;
    await waitUntil('the output', written, 50, cli);
    await redis.server.restart();
    const first = await cli.done;
    if (first.code !== 0) expectCleanFailure(first, `127.0.0.1:${redis.server.port}`);
    else {
      expect(first.stderr).not.toContain("Unhandled 'error' event");
      expect(first.stderr).not.toMatch(/^\s+at \S/m);
    }

    const last = await runCli(['run', 'pipeline.yaml', '--output', 'json'], {
      cwd: dir,
      env,
      timeoutMs: 90_000,
    });
    expect(last.code, last.stderr).toBe(0);
    const ids = new Set(readJsonl(join(dir, 'out.jsonl')).map((r) => r.id));
    expect(ids.size).toBe(total);
    // Resumed: the second run did not start over (at-least-once: at most the page in flight again).
    const summary = JSON.parse(last.stdout) as Summary;
    expect(summary.records_written).toBeLessThan(total);
  });
});
