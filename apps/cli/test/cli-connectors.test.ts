// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${env:…} interpolation
/**
 * `faucet connectors`, `faucet schema` and `faucet validate` with a third-party connector: the
 * repository's connector template (`faucet-source-example`, id `example`) made available through
 * FAUCET_PLUGIN_PATH, as a user who installed it elsewhere would.
 */
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanupTempDirs, REPO_DIR, runCli, tempDir, write } from './helpers.js';

const TEMPLATE = join(REPO_DIR, 'examples', 'connector-template');

beforeAll(() => {
  assertBuilt();
  if (!existsSync(join(TEMPLATE, 'dist', 'index.js'))) {
    throw new Error(`${TEMPLATE}/dist is missing: run pnpm build at ${REPO_DIR} first`);
  }
});
afterAll(cleanupTempDirs);

function pluginDir(): string {
  const dir = tempDir('faucet-plugin-path-');
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(TEMPLATE, join(dir, 'node_modules', 'faucet-source-example'));
  return dir;
}

describe('third-party connectors', () => {
  it('lists the CLI’s own connectors and one found through FAUCET_PLUGIN_PATH', async () => {
    const plugins = pluginDir();
    const cwd = tempDir();
    const result = await runCli(['connectors', '--output', 'json'], {
      cwd,
      env: { FAUCET_PLUGIN_PATH: plugins },
    });
    expect(result.code, result.stderr).toBe(0);
    const listed = JSON.parse(result.stdout) as {
      connectors: Array<{ kind: string; id: string; package: string; location: string }>;
    };
    const ids = listed.connectors.map((c) => `${c.kind} ${c.id} ${c.package} ${c.location}`);
    expect(ids).toEqual(
      expect.arrayContaining([
        'source example faucet-source-example FAUCET_PLUGIN_PATH',
        'source file @faucet/source-file faucet CLI',
        'sink file @faucet/sink-file faucet CLI',
        'sink stdout @faucet/sink-stdout faucet CLI',
        'source s3 @faucet/source-s3 faucet CLI',
        'sink s3 @faucet/sink-s3 faucet CLI',
        'state file @faucet/core built in',
        'state memory @faucet/core built in',
      ]),
    );
    const text = await runCli(['connectors'], { cwd, env: { FAUCET_PLUGIN_PATH: plugins } });
    expect(text.stdout).toMatch(/source\s+example\s+0\.1\.0\s+faucet-source-example\s+FAUCET_PLUGIN_PATH: /);
  });

  it('resolves `type: example`, checks its config, and covers it in the schema', async () => {
    const plugins = pluginDir();
    const dir = tempDir();
    write(
      join(dir, 'api.yaml'),
      `pipeline:
  source:
    type: example
    config:
      url: https://api.example.com/v1/records
      token: \${env:API_TOKEN}
  sink: { type: stdout, config: { format: jsonl } }
`,
    );
    const env = { FAUCET_PLUGIN_PATH: plugins, API_TOKEN: 'tok-abc-123' };
    const ok = await runCli(['validate', 'api.yaml'], { cwd: dir, env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('source example (faucet-source-example 0.1.0)');

    const bad = await runCli(['validate', 'api.yaml'], { cwd: dir, env: { ...env, API_TOKEN: '' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/api\.yaml:6:7 pipeline\.source\.config\.token: /);

    const schema = await runCli(['schema'], { cwd: dir, env });
    expect(schema.code, schema.stderr).toBe(0);
    const source = (JSON.parse(schema.stdout) as { $defs: { source: { oneOf: Array<{ title: string }> } } })
      .$defs.source;
    expect(source.oneOf.map((b) => b.title)).toEqual(
      expect.arrayContaining(['source example', 'source file']),
    );
  });
});
