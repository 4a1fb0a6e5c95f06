/**
 * A sink in overwrite mode stages its output and commits it only after a successful run: the CLI
 * must tell the sink how the run ended when it closes it, or a failed run would replace the last
 * good output with a partial one. With a state store, overwrite would replace the output with only
 * what is new since the last run: validate and run refuse it (exit 2).
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

    // Fixed input: the next run reads everything again and replaces the output with every row once
    // (it does not continue the failed run's staging file, whose rows it reads again).
    writeCsv(join(dir, 'data', 'in.csv'), 1, 50);
    const third = await runCli(['run', 'pipeline.yaml'], { cwd: dir });
    expect(third.code, third.stderr).toBe(0);
    expect(readJsonl(output).map((r) => r.id)).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)));
    expect(third.stderr).toContain('discarding the staging file of an earlier run that did not finish');
  });

  it('refuses overwrite with a state store in validate and run (exit 2), leaving the output whole', async () => {
    const dir = tempDir();
    writeCsv(join(dir, 'data', 'in.csv'), 1, 300);
    const stateful = pipeline.replace(
      '  batch_size: 10\n',
      '  state: { type: file, config: { path: ./state } }\n  batch_size: 10\n',
    );
    write(join(dir, 'pipeline.yaml'), stateful);
    const output = join(dir, 'out', 'snapshot.jsonl');
    write(
      output,
      readFileSync(join(dir, 'data', 'in.csv'), 'utf8')
        .split('\n')
        .slice(1)
        .filter(Boolean)
        .map((l) => `{"line":${JSON.stringify(l)}}`)
        .join('\n') + '\n',
    );
    const before = readFileSync(output, 'utf8');

    const message =
      /pipeline\.yaml:5:\d+ pipeline\.sink\.config\.mode: overwrite cannot be used with a state store: .* Use mode: append .* or remove the state store .* \(sink "file"\)/;
    const validate = await runCli(['validate', 'pipeline.yaml'], { cwd: dir });
    expect(validate.code).toBe(2);
    expect(validate.stderr).toMatch(message);
    for (let i = 0; i < 2; i++) {
      const run = await runCli(['run', 'pipeline.yaml'], { cwd: dir });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(readFileSync(output, 'utf8')).toBe(before);
    }

    // The same pipeline in append mode runs; without the state store, overwrite runs.
    write(join(dir, 'pipeline.yaml'), stateful.replace('mode: overwrite', 'mode: append'));
    expect((await runCli(['validate', 'pipeline.yaml'], { cwd: dir })).code).toBe(0);
    write(join(dir, 'pipeline.yaml'), pipeline);
    expect((await runCli(['validate', 'pipeline.yaml'], { cwd: dir })).code).toBe(0);
    write(
      join(dir, 'pipeline.yaml'),
      stateful.replace('type: file, config: { path: ./state }', 'type: memory'),
    );
    expect((await runCli(['validate', 'pipeline.yaml'], { cwd: dir })).code).toBe(0);
  });

  it('refuses an overwrite dead-letter file with a state store', async () => {
    const dir = tempDir();
    writeCsv(join(dir, 'data', 'in.csv'), 1, 5);
    write(
      join(dir, 'pipeline.yaml'),
      pipeline
        .replace('mode: overwrite', 'mode: append')
        .replace(
          '  batch_size: 10\n',
          '  state: { type: file, config: { path: ./state } }\n' +
            '  dlq: { sink: { type: file, config: { path: ./out/dlq.jsonl, mode: overwrite } } }\n' +
            '  batch_size: 10\n',
        ),
    );
    const validate = await runCli(['validate', 'pipeline.yaml'], { cwd: dir });
    expect(validate.code).toBe(2);
    expect(validate.stderr).toMatch(
      /pipeline\.dlq\.sink\.config\.mode: overwrite cannot be used for a dead-letter file with a state store/,
    );
  });
});
