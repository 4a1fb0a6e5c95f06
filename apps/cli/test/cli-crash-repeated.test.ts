/**
 * Acceptance (issue 18): a 300,000-row CSV → JSONL run with the file state store, SIGKILLed three
 * times at different points, then run to its end. Every row arrives (0 lost) and each kill costs at
 * most one page of duplicates: the journal of the file state store keeps the one-page bound.
 */
import { join } from 'node:path';
import { missingIds, tallyJsonlIds } from '@faucet/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  cleanupTempDirs,
  countLines,
  readStateDir,
  runCli,
  startCli,
  tempDir,
  waitFor,
  write,
  writeCsv,
} from './helpers.js';

const ROWS = 300_000;
const PAGE = 100;
const KILLS = 3;

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

describe('faucet run, SIGKILLed three times', () => {
  it('completes with every row and at most one page of duplicates per kill', async () => {
    const dir = tempDir();
    writeCsv(join(dir, 'data', 'big.csv'), 1, ROWS);
    write(
      join(dir, 'pipeline.yaml'),
      `version: 1
name: kills
pipeline:
  source: { type: file, config: { path: ./data/big.csv, format: csv } }
  sink: { type: file, config: { path: ./out/big.jsonl, format: jsonl } }
  state: { type: file, config: { path: ./state } }
  batch_size: ${PAGE}
`,
    );
    const out = join(dir, 'out', 'big.jsonl');
    const stateDir = join(dir, 'state');

    for (let kill = 1; kill <= KILLS; kill++) {
      const before = countLines(out);
      const run = startCli(['run', 'pipeline.yaml'], { cwd: dir, lowPriority: true });
      // Each run gets some way further than the last one before it is killed.
      await waitFor(
        () => countLines(out) >= before + ROWS / 10 && Object.keys(readStateDir(stateDir)).length > 0,
        `run ${kill} to be well under way`,
      );
      run.child.kill('SIGKILL');
      expect((await run.done).signal).toBe('SIGKILL');
      expect(countLines(out), 'a run finished before its kill; make the runs slower').toBeLessThan(
        ROWS + kill * PAGE,
      );
      expect(readStateDir(stateDir)['kills::row-0'], 'a checkpoint is stored').toBeDefined();
    }

    const last = await runCli(['run', 'pipeline.yaml', '--output', 'json'], { cwd: dir });
    expect(last.code, last.stderr).toBe(0);
    const tally = tallyJsonlIds(out);
    expect(tally.torn).toBeLessThanOrEqual(KILLS);
    expect(missingIds(tally, 1, ROWS)).toEqual([]);
    expect(tally.counts.size).toBe(ROWS);
    expect(tally.duplicates).toBeLessThanOrEqual(KILLS * PAGE);

    const again = await runCli(['run', 'pipeline.yaml', '--output', 'json'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { records_written: number }).records_written).toBe(0);
  });
});
