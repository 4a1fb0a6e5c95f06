// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${env:…} interpolation
/**
 * Acceptance: a broken pipeline file stops `faucet run` before anything is read, exits 2, and says
 * what is wrong and where: file:line:column and the config path.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanupTempDirs, runCli, tempDir, write, writeCsv } from './helpers.js';

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

const good = `version: 1
name: errs
pipeline:
  source:
    type: file
    config:
      path: ./data/in.csv
      format: csv
  sink:
    type: file
    config:
      path: ./out/out.jsonl
      format: jsonl
  state: { type: file, config: { path: ./state } }
`;

async function runWith(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const dir = tempDir();
  writeCsv(join(dir, 'data', 'in.csv'), 1, 10);
  write(join(dir, 'pipeline.yaml'), yaml);
  const result = await runCli(['run', 'pipeline.yaml'], { cwd: dir, env });
  expect(existsSync(join(dir, 'out')), 'nothing may be written').toBe(false);
  expect(existsSync(join(dir, 'state')), 'no state may be stored').toBe(false);
  return result;
}

describe('faucet run with a broken pipeline file', () => {
  it('the good file runs', async () => {
    const dir = tempDir();
    writeCsv(join(dir, 'data', 'in.csv'), 1, 10);
    write(join(dir, 'pipeline.yaml'), good);
    const result = await runCli(['run', 'pipeline.yaml'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
  });

  it('malformed YAML: the line and column of the syntax error', async () => {
    const result = await runWith(good.replace('      format: csv', '      format: [csv'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/pipeline\.yaml:\d+:\d+ YAML syntax error: /);
    expect(result.stderr).toContain('invalid pipeline file pipeline.yaml');
  });

  it('unknown connector type: the line, the path, every place looked in, and a suggestion', async () => {
    const result = await runWith(
      good.replace(
        '    type: file\n    config:\n      path: ./out',
        '    type: fiel\n    config:\n      path: ./out',
      ),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pipeline.yaml:10:5 pipeline.sink.type: sink "fiel" is not installed');
    expect(result.stderr).toContain('@faucet/sink-fiel, faucet-sink-fiel');
    expect(result.stderr).toContain('config directory');
    expect(result.stderr).toContain('faucet CLI:');
    expect(result.stderr).toContain('did you mean "file"?');
  });

  it('a wrong field: unknown key and wrong value, each with its line and path', async () => {
    const result = await runWith(
      good
        .replace('      format: csv', '      format: xlsx\n      delimitter: ";"')
        .replace('  state:', '  batch_size: lots\n  state:'),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('(3 problems)');
    // Paths, lines and the allowed values are asserted; zod's wording around them is not.
    expect(result.stderr).toMatch(
      /pipeline\.yaml:8:7 pipeline\.source\.config\.format: .*"csv".*"jsonl".*\(source "file"\)/,
    );
    expect(result.stderr).toContain(
      'pipeline.yaml:9:7 pipeline.source.config.delimitter: unknown key; did you mean "delimiter"?',
    );
    expect(result.stderr).toMatch(/pipeline\.yaml:15:3 pipeline\.batch_size: .*\bnumber\b/);
  });

  it('a missing environment variable: its name, the file:line and the path', async () => {
    const result = await runWith(
      good.replace('path: ./out/out.jsonl', 'path: ${env:FAUCET_TEST_OUT_DIR}/out.jsonl'),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'pipeline.yaml:12:7 pipeline.sink.config.path: environment variable FAUCET_TEST_OUT_DIR is not set',
    );
  });

  it('no pipeline file: a usage error naming the files looked for', async () => {
    const dir = tempDir();
    const result = await runCli(['run'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no faucet.yaml or faucet.yml');
  });

  it('validate refuses what run refuses, with the same exit code 2 (issue 11 item 9)', async () => {
    const bad = good.replace(
      '  state: { type: file, config: { path: ./state } }\n',
      '  state: { type: memory }\n  delivery: effectively_once\n' +
        '  dlq: { sink: { type: file, config: { path: ./out/dlq.jsonl } } }\n',
    );
    const dir = tempDir();
    writeCsv(join(dir, 'data', 'in.csv'), 1, 10);
    write(join(dir, 'pipeline.yaml'), bad);
    const validate = await runCli(['validate', 'pipeline.yaml'], { cwd: dir });
    const run = await runWith(bad);
    for (const result of [validate, run]) {
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(
        'pipeline.delivery: effectively_once needs a sink that supports idempotent commits',
      );
      expect(result.stderr).toContain('pipeline.delivery: effectively_once cannot be combined with a dlq');
      expect(result.stderr).toContain('pipeline.delivery: effectively_once needs a durable state store');
      expect(result.stderr).toMatch(/pipeline\.yaml:\d+:\d+ pipeline\.delivery/);
    }
    const noDlq = good.replace('  state:', '  on_record_error: dlq\n  state:');
    write(join(dir, 'no-dlq.yaml'), noDlq);
    const refused = await runCli(['validate', 'no-dlq.yaml'], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('on_record_error: is dlq, but this row has no dlq');
  });

  it('--output json prints a broken file once, as JSON, and nothing on stderr (issue 11 item 6)', async () => {
    const dir = tempDir();
    write(join(dir, 'pipeline.yaml'), good.replace('      format: csv', '      format: [csv'));
    const result = await runCli(['validate', 'pipeline.yaml', '--output', 'json'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'invalid', error: { code: 'CONFIG_INVALID' } });
    expect(result.stderr).toBe('');
  });
});
