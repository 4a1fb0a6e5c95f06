/**
 * Acceptance: with `--metrics-port`, the CDC source's own gauge
 * `faucet.source.postgres_cdc.slot_lag_bytes` is live on /metrics during the run — the CLI
 * registers the MeterProvider before any source is created, and the source measures through
 * `@opentelemetry/api` like the engine. Needs FAUCET_TEST_POSTGRES_URL (`scripts/services.sh start`).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  assertBuilt,
  cleanupTempDirs,
  runCli,
  sleep,
  startCli,
  tempDir,
  useCdcFixture,
  waitFor,
  withPostgres,
  write,
} from './helpers.js';

const POSTGRES_URL = process.env.FAUCET_TEST_POSTGRES_URL;

beforeAll(() => assertBuilt());
afterAll(() => cleanupTempDirs());

const NO_OTEL: NodeJS.ProcessEnv = Object.fromEntries(
  Object.keys(process.env)
    .filter((k) => k.startsWith('OTEL_'))
    .map((k) => [k, undefined]),
);

withPostgres('CDC slot lag on /metrics', () => {
  const cdc = useCdcFixture(POSTGRES_URL as string, 'climetrics');
  const { schema, slot, pool } = cdc;

  it('serves faucet_source_postgres_cdc_slot_lag_bytes{slot} while the CDC source runs', async () => {
    await cdc.create();
    const dir = tempDir('faucet-metrics-cdc-');
    const pipeline = (idle: string) => cdc.pipeline({ idle });
    const env = { ...NO_OTEL, FAUCET_TEST_POSTGRES_URL: POSTGRES_URL };
    // The first run creates the slot and takes the snapshot.
    write(join(dir, 'faucet.yaml'), pipeline('500ms'));
    const first = await runCli(['run'], { cwd: dir, env });
    expect(first.code, first.stderr).toBe(0);
    await pool.query(`INSERT INTO ${schema}.t VALUES (3, 'c')`);

    // The second streams from the slot for a few idle seconds, with /metrics up.
    write(join(dir, 'faucet.yaml'), pipeline('4s'));
    const run = startCli(['run', '--metrics-port', '0'], { cwd: dir, env });
    await waitFor(() => /^metrics: http/m.test(run.output().stderr), 'the metrics line');
    const url = (/^metrics: (\S+)$/m.exec(run.output().stderr) as RegExpExecArray)[1] as string;
    let lag: number | undefined;
    while (lag === undefined && run.child.exitCode === null) {
      try {
        const body = await (await fetch(url)).text();
        const match = new RegExp(
          `^faucet_source_postgres_cdc_slot_lag_bytes\\{slot="${slot}"\\} (\\d+(?:\\.\\d+)?)$`,
          'm',
        ).exec(body);
        if (match) lag = Number(match[1]);
      } catch {
        // the run may just have ended
      }
      if (lag === undefined) await sleep(100);
    }
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(lag, 'the slot lag gauge never showed up on /metrics').toBeGreaterThanOrEqual(0);
    expect(`${result.stdout}${result.stderr}`).not.toContain(POSTGRES_URL);
  });
});
