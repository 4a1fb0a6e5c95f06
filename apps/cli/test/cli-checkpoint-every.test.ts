/**
 * `checkpoint_every`: a pipeline that stores its checkpoint at most every interval. A run stores the
 * newest checkpoint at its end; a run killed with SIGKILL resumes from the last stored one — every
 * id still delivered, more redone than with a checkpoint per page; a bad value is a config error.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

const ROWS = 100_000;
const PAGE = 50;

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

/** The ids in a JSONL output, in file order. */
function readIds(file: string): number[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => Number((JSON.parse(line) as { id: string }).id));
}

function pipeline(every: string): string {
  return `version: 1
name: every
pipeline:
  source: { type: file, config: { path: ./data/big.csv, format: csv } }
  sink: { type: file, config: { path: ./out/big.jsonl, format: jsonl } }
  state: { type: file, config: { path: ./state } }
  batch_size: ${PAGE}
  checkpoint_every: ${every}
`;
}

describe('checkpoint_every', () => {
  it('stores the newest checkpoint at the end, and after a SIGKILL resumes from the last stored one', async () => {
    const dir = tempDir();
    // More rows than the other tests: without fsyncs a quiet machine moves 100,000 in well under a second.
    const rows = 3 * ROWS;
    writeCsv(join(dir, 'data', 'big.csv'), 1, rows);
    write(join(dir, 'pipeline.yaml'), pipeline('1h'));
    const out = join(dir, 'out', 'big.jsonl');
    const stateDir = join(dir, 'state');

    const first = startCli(['run', 'pipeline.yaml'], { cwd: dir, lowPriority: true });
    await waitFor(() => countLines(out) >= rows / 10, 'the first run to be well under way');
    const storedWhileRunning = JSON.stringify(readStateDir(stateDir));
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const writtenBeforeKill = countLines(out);
    expect(writtenBeforeKill, 'the run ended before the kill; make it slower').toBeLessThan(rows);
    // With an hour between checkpoints only the first page's was stored, though thousands of rows
    // were written: the state did not move while the run went on.
    expect(JSON.stringify(readStateDir(stateDir))).toBe(storedWhileRunning);

    const second = await runCli(['run', 'pipeline.yaml', '--output', 'json'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    const summary = JSON.parse(second.stdout) as { records_written: number };
    // It redid everything after the first page: far more than one page.
    expect(summary.records_written).toBe(rows - PAGE);
    const ids = new Set(
      readFileSync(out, 'utf8')
        .split('\n')
        .filter(Boolean)
        .flatMap((line) => {
          try {
            return [Number((JSON.parse(line) as { id: string }).id)];
          } catch {
            return [];
          }
        }),
    );
    expect(ids.size).toBe(rows);

    // The end of a run stores its newest checkpoint: a third run writes nothing.
    const third = await runCli(['run', 'pipeline.yaml', '--output', 'json'], { cwd: dir });
    expect(third.code, third.stderr).toBe(0);
    expect((JSON.parse(third.stdout) as { records_written: number }).records_written).toBe(0);
    expect(Object.keys(readStateDir(stateDir))).toEqual(['every::row-0']);
  });

  it('SIGTERM stores the newest checkpoint at once: the rerun redoes nothing (issue 11 item 5)', async () => {
    const dir = tempDir();
    // More rows than the other tests: without fsyncs a quiet machine moves 100,000 in well under a second.
    const rows = 5 * ROWS;
    writeCsv(join(dir, 'data', 'big.csv'), 1, rows);
    write(join(dir, 'pipeline.yaml'), pipeline('1h'));
    const out = join(dir, 'out', 'big.jsonl');
    // The current page is finished and, though the interval is an hour, its checkpoint stored.
    const first = startCli(['run', 'pipeline.yaml'], { cwd: dir, lowPriority: true });
    await waitFor(() => countLines(out) >= rows / 20, 'the first run to be under way');
    first.child.kill('SIGTERM');
    const terminated = await first.done;
    expect(terminated.code, terminated.stderr).toBe(143);
    expect(terminated.stderr).toContain('cancelled');
    expect(countLines(out), 'the run ended before the signal; make it slower').toBeLessThan(rows);
    const second = await runCli(['run', 'pipeline.yaml'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(readIds(out)).toEqual(Array.from({ length: rows }, (_, i) => i + 1));
  });

  it('an error after good pages stores their checkpoint; on_record_error: dlq then sets the bad row aside (issue 11 items 4, 5)', async () => {
    const dir = tempDir();
    // Row BAD has an amount cast cannot convert: a run fails there, after many good pages.
    const BAD = Math.round(ROWS * 0.6) + 7;
    const csv = join(dir, 'data', 'big.csv');
    writeCsv(csv, 1, BAD - 1);
    appendFileSync(csv, `${BAD},name ${BAD},not-a-number\n`);
    writeCsv(csv, BAD + 1, ROWS, false);
    const cast = '  transforms: [ { type: cast, config: { fields: { amount: float } } } ]\n';
    write(join(dir, 'pipeline.yaml'), pipeline('1h') + cast);
    write(
      join(dir, 'with-dlq.yaml'),
      `${pipeline('1h') + cast}  on_record_error: dlq\n  dlq: { sink: { type: file, config: { path: ./out/dlq.jsonl } } }\n`,
    );
    const out = join(dir, 'out', 'big.jsonl');

    const failed = await runCli(['run', 'pipeline.yaml'], { cwd: dir });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('cannot be cast to float');
    // Every page before the bad row's was written, flushed and checkpointed, though the interval is an hour.
    expect(countLines(out)).toBe(BAD - 1 - ((BAD - 1) % PAGE));

    const second = await runCli(['run', 'with-dlq.yaml', '--output', 'json'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    const ids = readIds(out);
    // Nothing redone: every id but the bad one, exactly once.
    expect(ids).toHaveLength(ROWS - 1);
    expect(new Set(ids).size).toBe(ROWS - 1);
    expect(ids).not.toContain(BAD);
    const dead = readFileSync(join(dir, 'out', 'dlq.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean);
    expect(dead).toHaveLength(1);
    expect(JSON.parse(dead[0] as string)).toMatchObject({
      reason: 'transform',
      payload: { id: String(BAD), amount: 'not-a-number' },
      error: { kind: 'TRANSFORM_FAILED' },
    });
  });

  it('refuses a value that is not a duration, naming the place', async () => {
    const dir = tempDir();
    writeCsv(join(dir, 'data', 'big.csv'), 1, 10);
    write(join(dir, 'pipeline.yaml'), pipeline('soon'));
    const result = await runCli(['validate', 'pipeline.yaml'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/pipeline\.yaml:\d+:\d+ pipeline\.checkpoint_every: expected a duration/);
  });
});
