/**
 * Parquet through the file connectors and the real CLI: a CSV becomes a Parquet file (file sink,
 * overwrite mode, row groups of 5,000), which the file source then reads into JSON Lines with the
 * file state store. That run is SIGKILLed mid-file and resumed: the bookmark held a row inside the
 * Parquet file, the rerun delivers every id (duplicates at most one page), and a third run reads 0.
 */
import { readFileSync } from 'node:fs';
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

const ROWS = 200_000;
const PAGE = 50;

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

/** The Parquet row stored in the file state, 0 before the first checkpoint. */
function storedRow(stateDir: string): number {
  for (const entry of Object.values(readStateDir(stateDir))) {
    const files = (entry.bookmark as { files?: Record<string, { row?: number }> } | null)?.files ?? {};
    for (const file of Object.values(files)) if ((file.row ?? 0) > 0) return file.row ?? 0;
  }
  return 0;
}

describe('Parquet through faucet run', () => {
  it('CSV -> Parquet file -> JSON Lines, killed inside the Parquet file and resumed by row', async () => {
    const dir = tempDir('faucet-cli-parquet-');
    writeCsv(join(dir, 'data', 'rows.csv'), 1, ROWS);
    write(
      join(dir, 'to-parquet.yaml'),
      `version: 1
name: to-parquet
pipeline:
  source: { type: file, config: { path: ./data/rows.csv, typed: true } }
  sink: { type: file, config: { path: ./out/rows.parquet, mode: overwrite, parquet_row_group_rows: 5000 } }
  batch_size: 2000
`,
    );
    const converted = await runCli(['run', 'to-parquet.yaml', '--output', 'json'], { cwd: dir });
    expect(converted.code, converted.stderr).toBe(0);
    expect((JSON.parse(converted.stdout) as { records_written: number }).records_written).toBe(ROWS);

    write(
      join(dir, 'from-parquet.yaml'),
      `version: 1
name: from-parquet
pipeline:
  source: { type: file, config: { path: ./out/rows.parquet } }
  sink: { type: file, config: { path: ./out/rows.jsonl } }
  state: { type: file, config: { path: ./state } }
  batch_size: ${PAGE}
`,
    );
    const out = join(dir, 'out', 'rows.jsonl');
    const stateDir = join(dir, 'state');
    const first = startCli(['run', 'from-parquet.yaml'], { cwd: dir, lowPriority: true });
    await waitFor(
      () => countLines(out) >= ROWS / 10 && storedRow(stateDir) > 0,
      'the first run to be well inside the Parquet file',
      120_000,
    );
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const before = countLines(out);
    expect(before, 'the kill came after the run had finished; make the run slower').toBeLessThan(ROWS);
    expect(storedRow(stateDir)).toBeGreaterThan(0);

    const second = await runCli(['run', 'from-parquet.yaml', '--output', 'json'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean);
    const records = lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as { id: number; name: string; amount: number }];
      } catch {
        return []; // a line torn by the kill: never flushed, so never checkpointed
      }
    });
    expect(lines.length - records.length).toBeLessThanOrEqual(1);
    const seen = new Map<number, number>();
    for (const r of records) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
    expect(seen.size).toBe(ROWS);
    expect(records.length - seen.size).toBeLessThanOrEqual(PAGE);
    // Typed CSV values survive the Parquet round trip.
    expect(records.find((r) => r.id === 1234)).toEqual({ id: 1234, name: 'name 1234', amount: 234.25 });

    const third = await runCli(['run', 'from-parquet.yaml', '--output', 'json'], { cwd: dir });
    expect(third.code, third.stderr).toBe(0);
    expect((JSON.parse(third.stdout) as { records_written: number }).records_written).toBe(0);
  }, 300_000);

  it('refuses a Parquet file sink in append mode before reading anything (exit 2)', async () => {
    const dir = tempDir('faucet-cli-parquet-');
    writeCsv(join(dir, 'data', 'rows.csv'), 1, 10);
    write(
      join(dir, 'pipeline.yaml'),
      `version: 1
name: append-parquet
pipeline:
  source: { type: file, config: { path: ./data/rows.csv } }
  sink: { type: file, config: { path: ./out/rows.parquet } }
`,
    );
    const result = await runCli(['validate', 'pipeline.yaml'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('a Parquet file cannot be appended to');
  });
});
