/**
 * The quick start (examples/quickstart) as a user runs it: the first run writes the 1,000 sample rows,
 * the second writes none, and rows appended to the CSV are written exactly once by the next run.
 */
import { appendFileSync, cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanupTempDirs, REPO_DIR, readJsonl, runCli, tempDir } from './helpers.js';

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

const EXAMPLE = join(REPO_DIR, 'examples', 'quickstart');

interface Summary {
  status: string;
  records_written: number;
}

describe('examples/quickstart', () => {
  it('runs, resumes with nothing new, then writes exactly the appended rows', async () => {
    const dir = tempDir();
    // A copy, so the test never touches the example's own output or state.
    cpSync(join(EXAMPLE, 'pipeline.yaml'), join(dir, 'quickstart', 'pipeline.yaml'));
    cpSync(join(EXAMPLE, 'data'), join(dir, 'quickstart', 'data'), { recursive: true });
    const run = async () => {
      // Run from the parent directory, as `pnpm quickstart` does from the repository root.
      const result = await runCli(['run', 'quickstart/pipeline.yaml', '--output', 'json'], { cwd: dir });
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as Summary;
    };
    const out = join(dir, 'quickstart', 'out', 'customers.jsonl');

    expect((await run()).records_written).toBe(1000);
    const records = readJsonl(out);
    expect(records).toHaveLength(1000);
    expect(records[0]).toEqual({
      id: 1,
      first_name: 'Margaret',
      last_name: 'Lovelace',
      country: 'US',
      signup_date: '2024-01-01',
      plan: 'free',
      monthly_spend: 0,
      active: true,
    });
    expect(existsSync(join(dir, 'quickstart', '.faucet', 'state', 'quickstart%3A%3Arow-0.json'))).toBe(true);

    expect((await run()).records_written).toBe(0);

    appendFileSync(
      join(dir, 'quickstart', 'data', 'customers.csv'),
      '1001,Hedy,Lamarr,hedy@example.com,AT,2025-06-01,pro,49.5,true\n' +
        '1002,Alan,Kay,alan@example.com,US,2025-06-02,free,0,false\n',
    );
    expect((await run()).records_written).toBe(2);
    const after = readJsonl(out);
    expect(after).toHaveLength(1002);
    expect(after.slice(-2).map((r) => r.id)).toEqual([1001, 1002]);
  });
});
