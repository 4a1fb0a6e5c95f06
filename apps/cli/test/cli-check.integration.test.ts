/**
 * `faucet check`: the doctor. On a CDC pipeline it shows the slot (and its lag in bytes) and the
 * stored bookmark under the source's own state key; a missing publication fails with exit 1 and
 * says so; a file pipeline passes without a server.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  cleanupTempDirs,
  runCli,
  tempDir,
  useCdcFixture,
  withPostgres,
  write,
} from './helpers.js';

const POSTGRES_URL = process.env.FAUCET_TEST_POSTGRES_URL;

beforeAll(() => assertBuilt());
afterAll(() => cleanupTempDirs());

describe('faucet check without a server', () => {
  it('checks a file pipeline and shows that nothing is stored yet', async () => {
    const dir = tempDir('faucet-check-file-');
    write(join(dir, 'in.csv'), 'id,name\n1,a\n');
    write(
      join(dir, 'faucet.yaml'),
      `version: 1
name: files
pipeline:
  source: { type: file, config: { path: in.csv, format: csv } }
  sink: { type: file, config: { path: out.jsonl, format: jsonl } }
  state: { type: file, config: { path: state } }
`,
    );
    const result = await runCli(['check'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('row-0: source file — ok');
    expect(result.stdout).toContain('state files::row-0: no checkpoint yet');
    expect(result.stdout).toContain('all checks passed');
  });
});

withPostgres('faucet check on a CDC pipeline', () => {
  const cdc = useCdcFixture(POSTGRES_URL as string, 'clicheck');
  const { schema, slot, pool } = cdc;

  it('shows the slot, its lag and the stored bookmark; a missing publication fails the check', async () => {
    await cdc.create();
    const dir = tempDir('faucet-check-cdc-');
    const pipeline = (publication: string) => cdc.pipeline({ idle: '500ms', publication });
    write(join(dir, 'faucet.yaml'), pipeline(`${schema}_pub`));
    const env = { FAUCET_TEST_POSTGRES_URL: POSTGRES_URL };

    const before = await runCli(['check', '-o', 'json'], { cwd: dir, env });
    expect(before.code, before.stderr).toBe(0);
    const first = JSON.parse(before.stdout) as { rows: Array<Record<string, unknown>> };
    expect(first.rows[0]).toMatchObject({
      status: 'ok',
      state_key: `postgres-cdc:${slot}`,
      check: 'passed',
      facts: { slot, exists: false },
      state: 'no checkpoint yet',
    });

    const run = await runCli(['run'], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    await pool.query(`INSERT INTO ${schema}.t VALUES (3, 'c')`);

    const after = await runCli(['check'], { cwd: dir, env });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(
      new RegExp(
        `status: slot=${slot}, exists=true, active=false, confirmed_flush_lsn=\\d+/[0-9A-F]+, wal_status=\\w+, lag_bytes=[1-9]\\d*`,
      ),
    );
    expect(after.stdout).toMatch(
      new RegExp(
        `state postgres-cdc:${slot}: bookmark=\\{"kind":"lsn","slot":"${slot}","lsn":"[0-9A-F]+/[0-9A-F]+"\\}`,
      ),
    );

    write(join(dir, 'faucet.yaml'), pipeline('no_such_pub'));
    const broken = await runCli(['check'], { cwd: dir, env });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('publication "no_such_pub" does not exist');
    expect(broken.stdout).toContain('1 of 1 rows failed their checks');
    expect(`${broken.stdout}${broken.stderr}`).not.toContain('postgres://');
  });
});
