/**
 * What a newcomer reads (issue 11 item 6): FullTable with an appending sink and a state store writes
 * every record again on every run, and faucet says so once per run; a failed run says its error once;
 * a dry run says what would be written.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanupTempDirs, fakePluginDir, runCli, tempDir, write } from './helpers.js';

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

function pipeline(fullTable: boolean): string {
  return `version: 1
name: again
pipeline:
  source: { type: fake, config: { count: 30, full_table: ${fullTable} } }
  sink: { type: fake, config: { path: ./out/rows.jsonl } }
  state: { type: file, config: { path: ./state } }
  batch_size: 10
matrix:
  - { id: a }
  - { id: b }
`;
}

const WARNING =
  /replication_method FullTable reads every record again on every run, and the "fake" sink appends/;

describe('FullTable into an appending sink with a state store', () => {
  it('warns once per run (not per matrix row), naming the fix; Incremental-like sources do not warn', async () => {
    const dir = tempDir();
    const env = { FAUCET_PLUGIN_PATH: fakePluginDir() };
    write(join(dir, 'full.yaml'), pipeline(true));
    write(join(dir, 'resumable.yaml'), pipeline(false));
    for (let run = 0; run < 2; run++) {
      const result = await runCli(['run', 'full.yaml'], { cwd: dir, env });
      expect(result.code, result.stderr).toBe(0);
      const warnings = result.stderr.split('\n').filter((line) => WARNING.test(line));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('Use replication_method: { type: Incremental, cursor_field: … }');
      expect(warnings[0]).toContain('an upsert by key, or overwrite');
    }
    const quiet = await runCli(['run', 'resumable.yaml'], { cwd: dir, env });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(WARNING);
  });
});

describe('messages of a run', () => {
  it('a failed run prints its error once; a dry run says "would be written"', async () => {
    const dir = tempDir();
    const env = { FAUCET_PLUGIN_PATH: fakePluginDir() };
    write(
      join(dir, 'fails.yaml'),
      `version: 1
name: fails
pipeline:
  source: { type: fake, config: { count: 30, fail_after: 10, fail_message: "upstream said no-7731" } }
  sink: { type: fake, config: { path: ./out/rows.jsonl } }
  batch_size: 10
`,
    );
    const failed = await runCli(['run', 'fails.yaml'], { cwd: dir, env });
    expect(failed.code).toBe(1);
    expect(failed.stderr.split('upstream said no-7731').length - 1).toBe(1);
    expect(failed.stderr).toContain('(error below)');

    write(join(dir, 'dry.yaml'), pipeline(false));
    const dry = await runCli(['run', 'dry.yaml', '--dry-run'], { cwd: dir, env });
    expect(dry.code, dry.stderr).toBe(0);
    const rowLines = dry.stderr.split('\n').filter((line) => /^\[[\d:]+\] [ab]: ok/.test(line));
    expect(rowLines).toHaveLength(2);
    for (const line of rowLines) expect(line).toContain('30 records would be written');
    expect(dry.stderr).not.toMatch(/records written/);
  });
});
