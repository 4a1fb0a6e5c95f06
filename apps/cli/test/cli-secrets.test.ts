// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${env:…} interpolation
/**
 * Acceptance: secrets given through ${env:} (process environment and .env) never appear in any
 * output — stdout, stderr, the DLQ file, the state files — even when a connector puts them in its
 * error messages. The fixture connectors come from FAUCET_PLUGIN_PATH; their `connection_url` and
 * `token` fields are marked secret.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  type CliResult,
  cleanupTempDirs,
  fakePluginDir,
  runCli,
  tempDir,
  write,
} from './helpers.js';

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

const PASSWORD = 'Pa55-w0rd-7Hq2';
const TOKEN = 'tok_live_9f8e7d6c5b4a';

function pipelineFile(fail: boolean): string {
  return `version: 1
name: ${fail ? 'secrets_broken' : 'secrets'}
pipeline:
  source:
    type: fake
    config:
      token: "Bearer \${env:API_TOKEN}"
      records:
        - { id: a }
        - { id: b, reject: true }
        - { id: c }
  sink:
    type: fake
    config:
      path: ./out/rows.jsonl
      connection_url: "postgres://loader:\${env:DB_PASSWORD}@db.internal:5432/warehouse"
      fail: ${fail}
  state: { type: file, config: { path: ./state } }
  dlq:
    sink: { type: file, config: { path: ./out/dlq.jsonl, format: jsonl } }
`;
}

function everything(dir: string, results: CliResult[]): string {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!entry.name.endsWith('.yaml') && entry.name !== '.env') files.push(readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return [...results.flatMap((r) => [r.stdout, r.stderr]), ...files].join('\n');
}

describe('secrets given through ${env:}', () => {
  it('never appear in stdout, stderr, the DLQ file or the state files', async () => {
    const plugins = fakePluginDir();
    const dir = tempDir();
    write(join(dir, 'ok.yaml'), pipelineFile(false));
    write(join(dir, 'broken.yaml'), pipelineFile(true));
    write(join(dir, '.env'), `API_TOKEN=${TOKEN}\n`);
    const env = { FAUCET_PLUGIN_PATH: plugins, DB_PASSWORD: PASSWORD };
    const cli = (...args: string[]) => runCli(args, { cwd: dir, env });

    const results: CliResult[] = [];
    const validate = await cli('validate', 'ok.yaml', '--output', 'json');
    results.push(validate);
    expect(validate.code, validate.stderr).toBe(0);

    // A run whose sink rejects a row with an error that quotes the connection URL.
    const ok = await cli('run', 'ok.yaml', '--output', 'json', '--log-level', 'debug');
    results.push(ok);
    expect(ok.code, ok.stderr).toBe(0);
    const summary = JSON.parse(ok.stdout) as { invocations: Array<{ records_dead_lettered: number }> };
    expect(summary.invocations[0]?.records_dead_lettered).toBe(1);
    const dlq = readFileSync(join(dir, 'out', 'dlq.jsonl'), 'utf8');
    expect(dlq).toContain('rejected row b by postgres://loader:***@db.internal:5432/warehouse');

    // A run that fails with an error quoting the connection URL.
    const failed = await cli('run', 'broken.yaml', '--output', 'json');
    results.push(failed);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('cannot reach postgres://loader:***@db.internal:5432/warehouse');
    expect(failed.stdout).toContain('***');

    results.push(await cli('dlq', 'inspect', 'ok.yaml'));
    results.push(await cli('state', 'get', 'secrets::row-0', '--config', 'ok.yaml'));
    results.push(await cli('state', 'list', '--config', 'ok.yaml'));

    const all = everything(dir, results);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(TOKEN);
    expect(all).toContain('secrets::row-0');
  });

  it('a value from ${env:} in a field no schema marks secret is scrubbed too (issue 11 item 7)', async () => {
    const plugins = fakePluginDir();
    const dir = tempDir();
    const key = 'hdrSECRET_551';
    // The fake source's fail_message is a plain string field; a server echoing the key back in a
    // 401 body puts it in the error text the same way.
    write(
      join(dir, 'echo.yaml'),
      `version: 1
name: echo
pipeline:
  source:
    type: fake
    config: { count: 5, fail_after: 0, fail_message: "HTTP 401: invalid key \${env:API_KEY}", label: "\${env:SHORT}" }
  sink: { type: file, config: { path: ./out/rows.jsonl } }
  state: { type: file, config: { path: ./state } }
`,
    );
    const env = { FAUCET_PLUGIN_PATH: plugins, API_KEY: key, SHORT: 'ab12' };
    const results: CliResult[] = [];
    for (const args of [
      ['run', 'echo.yaml'],
      ['run', 'echo.yaml', '--output', 'json', '--log-level', 'debug'],
    ]) {
      const result = await runCli(args, { cwd: dir, env });
      results.push(result);
      expect(result.code).toBe(1);
    }
    expect(results[0]?.stderr).toContain('HTTP 401: invalid key ***');
    expect(everything(dir, results)).not.toContain(key);
  });
});
