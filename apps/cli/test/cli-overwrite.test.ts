/**
 * A sink in overwrite mode stages its output and commits it only after a successful run: the CLI
 * must tell the sink how the run ended when it closes it, or a failed run would replace the last
 * good output with a partial one.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanupTempDirs, readJsonl, runCli, tempDir, write, writeCsv } from './helpers.js';

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

const pipeline = `version: 1
name: snapshot
pipeline:
  source: { type: file, config: { path: ./data/in.csv, format: csv } }
  sink: { type: file, config: { path: ./out/snapshot.jsonl, format: jsonl, mode: overwrite } }
  batch_size: 10
`;

describe('overwrite mode through the CLI', () => {
  it('a successful run replaces the output; a failed run leaves the previous output whole', async () => {
    const dir = tempDir();
    writeCsv(join(dir, 'data', 'in.csv'), 1, 50);
    write(join(dir, 'pipeline.yaml'), pipeline);
    const first = await runCli(['run', 'pipeline.yaml'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const output = join(dir, 'out', 'snapshot.jsonl');
    expect(readJsonl(output)).toHaveLength(50);
    const good = readFileSync(output, 'utf8');

    // A ragged row on line 31 makes the source fail after three pages have been written.
    appendFileSync(join(dir, 'data', 'in.csv'), '');
    const lines = readFileSync(join(dir, 'data', 'in.csv'), 'utf8').split('\n');
    lines.splice(31, 0, 'only,two');
    write(join(dir, 'data', 'in.csv'), lines.join('\n'));
    const second = await runCli(['run', 'pipeline.yaml'], { cwd: dir });
    expect(second.code).not.toBe(0);
    expect(readFileSync(output, 'utf8')).toBe(good);
  });
});
