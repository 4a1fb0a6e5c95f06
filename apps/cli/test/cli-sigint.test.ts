/**
 * Acceptance: SIGINT (and SIGTERM) in the middle of a run. The running page is finished and
 * checkpointed, the process exits non-zero saying it was cancelled, and the state holds the
 * checkpoint of the last page written — so a rerun continues with no gap and no duplicate.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  cleanupTempDirs,
  countLines,
  readJsonl,
  readStateDir,
  runCli,
  startCli,
  tempDir,
  waitFor,
  write,
  writeCsv,
} from './helpers.js';

const ROWS = 100_000;

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

interface FileBookmark {
  files: Record<string, { line: number; offset: number }>;
}

async function cancelMidRun(signal: 'SIGINT' | 'SIGTERM') {
  const dir = tempDir();
  writeCsv(join(dir, 'data', 'rows.csv'), 1, ROWS);
  write(
    join(dir, 'faucet.yaml'),
    `version: 1
name: cancel
pipeline:
  source: { type: file, config: { path: ./data/rows.csv, format: csv } }
  sink: { type: file, config: { path: ./out/rows.jsonl, format: jsonl } }
  state: { type: file, config: { path: ./state } }
  batch_size: 50
`,
  );
  const out = join(dir, 'out', 'rows.jsonl');
  // No config argument: `faucet run` finds faucet.yaml in the working directory.
  const run = startCli(['run'], { cwd: dir, lowPriority: true });
  await waitFor(
    () => countLines(out) >= 5_000 && Object.keys(readStateDir(join(dir, 'state'))).length > 0,
    'the run to be under way',
  );
  run.child.kill(signal);
  const result = await run.done;
  return { dir, out, result };
}

describe('faucet run cancelled by a signal', () => {
  it('SIGINT: finishes the page, stores its checkpoint, exits 130 saying it was cancelled', async () => {
    const { dir, out, result } = await cancelMidRun('SIGINT');
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('SIGINT: cancelling');
    expect(result.stderr).toMatch(/cancel: cancelled/);
    expect(result.stderr).toContain('run the same command again to resume');

    const written = countLines(out);
    expect(written, 'the run ended before the signal; make it slower').toBeLessThan(ROWS);
    const state = readStateDir(join(dir, 'state'));
    const bookmark = state['cancel::row-0']?.bookmark as FileBookmark;
    const progress = Object.values(bookmark.files)[0];
    // The bookmark stands exactly after the last record written: the header line plus every row.
    expect(progress?.line).toBe(written + 1);

    const rerun = await runCli(['run', '--output', 'json'], { cwd: dir });
    expect(rerun.code, rerun.stderr).toBe(0);
    const ids = readJsonl(out).map((r) => Number(r.id));
    expect(ids).toHaveLength(ROWS);
    expect(new Set(ids).size).toBe(ROWS);
    expect(ids[written]).toBe(written + 1);
  });

  it('SIGTERM: the same, exit code 143', async () => {
    const { dir, out, result } = await cancelMidRun('SIGTERM');
    expect(result.code, result.stderr).toBe(143);
    expect(result.stderr).toContain('SIGTERM: cancelling');
    const state = readStateDir(join(dir, 'state'));
    const progress = Object.values((state['cancel::row-0']?.bookmark as FileBookmark).files)[0];
    expect(progress?.line).toBe(countLines(out) + 1);
  });
});
