/**
 * `faucet init`: the starter file it writes is valid as written, runs once its input exists, and
 * stays valid with every commented option switched on; it never overwrites a file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanupTempDirs, runCli, tempDir, write, writeCsv } from './helpers.js';

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

describe('faucet init', () => {
  it('writes a starter pipeline that validates and runs, and never overwrites a file', async () => {
    const dir = tempDir();
    const init = await runCli(['init'], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain('wrote faucet.yaml');

    const validate = await runCli(['validate'], { cwd: dir });
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stdout).toContain('pipeline "my_pipeline"');

    writeCsv(join(dir, 'data', 'input.csv'), 1, 20);
    const run = await runCli(['run', '-o', 'json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { records_written: number }).records_written).toBe(20);

    const again = await runCli(['init'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('faucet.yaml already exists; init never overwrites a file');
  });

  it('stays valid with the commented pipeline options switched on', async () => {
    const dir = tempDir();
    expect((await runCli(['init', 'orders.yaml'], { cwd: dir })).code).toBe(0);
    const file = join(dir, 'orders.yaml');
    const text = readFileSync(file, 'utf8')
      .replace('  # batch_size: 1000', '  batch_size: 1000')
      .replace('  # checkpoint_every: 5s', '  checkpoint_every: 5s');
    expect(text).toContain('\n  checkpoint_every: 5s');
    writeFileSync(file, text);
    write(join(dir, 'data', 'input.csv'), 'id\n1\n');
    const validate = await runCli(['validate', 'orders.yaml', '-o', 'json'], { cwd: dir });
    expect(validate.code, validate.stderr).toBe(0);
    expect(JSON.parse(validate.stdout)).toMatchObject({ valid: true, pipeline: 'orders' });
  });

  it('--template kafka writes a Kafka pipeline that stays valid with its commented options switched on', async () => {
    const dir = tempDir();
    const init = await runCli(['init', 'topic.yaml', '--template', 'kafka'], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
    const file = join(dir, 'topic.yaml');
    const text = readFileSync(file, 'utf8')
      .replace('      # auth:', '      auth:')
      .replace('      # tls: true', '      tls: true')
      .replace('  # dlq:\n  #   sink:', '  dlq:\n    sink:');
    expect(text).toContain('\n  dlq:\n    sink:');
    writeFileSync(file, text);
    const validate = await runCli(['validate', 'topic.yaml', '-o', 'json'], {
      cwd: dir,
      env: { KAFKA_PASSWORD: 'not-used' },
    });
    expect(validate.code, validate.stderr).toBe(0);
    expect(JSON.parse(validate.stdout)).toMatchObject({ valid: true, pipeline: 'topic' });

    const unknown = await runCli(['init', 'other.yaml', '--template', 'nope'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--template "nope": choose one of file, kafka');
  });
});
