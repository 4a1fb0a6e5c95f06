/**
 * The closing `N passed, N failed, N skipped` line CI prints must agree with vitest's exit code
 * (issue 11 item 11): a failed hook, a file that fails to load and an unhandled error are failures.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');

function runFixture(name: string): { code: number | null; closing: string; output: string } {
  const result = spawnSync(
    process.execPath,
    [
      vitest,
      'run',
      '--root',
      join(here, 'fixtures'),
      '--config',
      join(here, 'fixtures', 'vitest.fixture.config.mts'),
      `${name}.fixture.ts`,
      '--reporter',
      'default',
      '--reporter',
      join(root, 'scripts', 'vitest-summary-reporter.ts'),
    ],
    { encoding: 'utf8', env: { ...process.env, CI: '' }, cwd: join(here, 'fixtures') },
  );
  const output = `${result.stdout}\n${result.stderr}`;
  const closing = output.split('\n').filter((line) => /^\d+ passed, \d+ failed, \d+ skipped$/.test(line));
  return { code: result.status, closing: closing.at(-1) ?? '', output };
}

describe('vitest summary reporter', () => {
  it('all passing: exit 0 and 0 failed', () => {
    const run = runFixture('all-pass');
    expect(run.code, run.output).toBe(0);
    expect(run.closing).toBe('1 passed, 0 failed, 1 skipped');
  });

  it('a failed clean-up hook counts as a failure', () => {
    const run = runFixture('hook-failure');
    expect(run.code, run.output).toBe(1);
    expect(run.closing).toBe('1 passed, 1 failed, 0 skipped');
    expect(run.output).toContain('failures outside tests: 1 failed hook, suite or file');
  });

  it('a file that fails to load counts as a failure', () => {
    const run = runFixture('load-failure');
    expect(run.code, run.output).toBe(1);
    expect(run.closing).toMatch(/^0 passed, [1-9]\d* failed, 0 skipped$/);
  });

  it('an unhandled rejection counts as a failure', () => {
    const run = runFixture('unhandled');
    expect(run.code, run.output).toBe(1);
    expect(run.closing).toMatch(/^1 passed, [1-9]\d* failed, 0 skipped$/);
    expect(run.output).toContain('unhandled error');
  });

  it('says how many tests were skipped for missing servers and how to start them', () => {
    const run = runFixture('missing-server');
    expect(run.code, run.output).toBe(0);
    expect(run.closing).toBe('1 passed, 0 failed, 3 skipped');
    expect(run.output).toContain(
      '2 integration test groups were skipped: no server for FAUCET_TEST_POSTGRES_URL, FAUCET_TEST_REDIS_URL. ' +
        'Start the servers with `bash scripts/services.sh start',
    );
  });
});
