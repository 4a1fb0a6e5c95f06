/**
 * Bad source records with `on_record_error: dlq` (issue 11 item 4): a JSON Lines line that is not JSON
 * and a CSV row with the wrong field count go to the DLQ with their file, line, byte offset and raw text,
 * and the run goes on; without the setting the first one fails the run as before.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanupTempDirs, readJsonl, runCli, tempDir, write } from './helpers.js';

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

const pipeline = (policy: string) => `version: 1
name: bad-records
pipeline:
  source:
    type: file
    config: { path: "./in/*.{jsonl,csv}" }
  sink:
    type: file
    config: { path: ./out/records.jsonl, format: jsonl }
  state: { type: file, config: { path: ./state } }
  on_record_error: ${policy}
  dlq:
    sink: { type: file, config: { path: ./out/dlq.jsonl, format: jsonl } }
`;

function fixture(policy: string): string {
  const dir = tempDir();
  write(join(dir, 'pipeline.yaml'), pipeline(policy));
  write(join(dir, 'in', 'a.jsonl'), '{"id":"a1"}\n{"id":"a2",broken\n{"id":"a3"}\n');
  write(join(dir, 'in', 'b.csv'), 'id,name\nb1,x\nb2,y,surplus\nb3,z\n');
  return dir;
}

describe('bad source records', () => {
  it('with on_record_error: dlq they are dead-lettered with where they were, and the run goes on', async () => {
    const dir = fixture('dlq');
    const run = await runCli(['run', 'pipeline.yaml'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(readJsonl(join(dir, 'out', 'records.jsonl')).map((r) => r.id)).toEqual(['a1', 'a3', 'b1', 'b3']);

    const dead = readJsonl(join(dir, 'out', 'dlq.jsonl'));
    expect(dead).toHaveLength(2);
    expect(dead[0]).toMatchObject({
      reason: 'source',
      raw: '{"id":"a2",broken',
      position: { file: 'in/a.jsonl', line: 2, offset: 12 },
    });
    expect(JSON.stringify(dead[0]?.error)).toContain('a.jsonl:2');
    expect(dead[1]).toMatchObject({
      reason: 'source',
      raw: 'b2,y,surplus',
      position: { file: 'in/b.csv', line: 3, offset: 13 },
    });
    expect(run.stderr + run.stdout).toMatch(/2 (records )?dead-lettered|dead-lettered: 2|dlq.*2/i);

    // The bookmark passed them: a second run reads nothing again and dead-letters nothing again.
    const again = await runCli(['run', 'pipeline.yaml'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(readJsonl(join(dir, 'out', 'records.jsonl'))).toHaveLength(4);
    expect(readJsonl(join(dir, 'out', 'dlq.jsonl'))).toHaveLength(2);
  });

  it('by default the first bad line fails the run, naming the file and line, and nothing is skipped', async () => {
    const dir = fixture('fail');
    const run = await runCli(['run', 'pipeline.yaml'], { cwd: dir });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('a.jsonl:2');
    expect(run.stderr).toContain('on_record_error: dlq');
    const out = join(dir, 'out', 'records.jsonl');
    expect(existsSync(out) ? readFileSync(out, 'utf8') : '').toBe('');
  });
});
