/**
 * The publishing proof: pack @faucet/core, @faucet/testkit and the connector template with
 * `pnpm pack`, install the three tarballs with npm into a fresh project outside the workspace, and run
 * the template's conformance suite there. It needs dist/ (the root `pnpm test` builds first) and the
 * npm registry (for vitest, zod and the packages' own dependencies).
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const packages = [
  { name: '@faucet/core', dir: join(root, 'packages/core') },
  { name: '@faucet/testkit', dir: join(root, 'packages/testkit') },
  { name: 'faucet-source-example', dir: join(root, 'examples/connector-template') },
];
const COMMAND_TIMEOUT_MS = 5 * 60_000;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** The parent's environment minus what the outer vitest and pnpm set, so the child tools start clean. */
function cleanEnv(): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|cache|userconfig|proxy|https_proxy|noproxy|strict_ssl|cafile)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^VITEST/.test(key) || key === 'TEST' || key === 'NODE_OPTIONS') continue;
    if (/^npm_/i.test(key) && !keep.test(key)) continue;
    env[key] = value;
  }
  env.CI = 'true';
  env.NO_COLOR = '1';
  return env;
}

function run(command: string, args: string[], cwd: string): Promise<Outcome> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      { cwd, env: cleanEnv(), timeout: COMMAND_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

function expectSuccess(outcome: Outcome, what: string): void {
  if (outcome.code !== 0) {
    throw new Error(
      `${what} exited ${outcome.code}\n--- stdout\n${outcome.stdout}\n--- stderr\n${outcome.stderr}`,
    );
  }
}

/** A second test file for the installed project: undeclared capabilities must show as skipped. */
const SKIPS_FIXTURE = `import { memorySource, testSource } from '@faucet/testkit';

testSource({
  name: 'bare',
  create: ({ records }) => memorySource({ records }),
  capabilities: { bookmarks: false, streaming: false },
});
`;

describe('pack and install outside the workspace', () => {
  const work = mkdtempSync(join(tmpdir(), 'faucet-pack-proof-'));
  afterAll(() => {
    if (!process.env.FAUCET_KEEP_PACK_DIR) rmSync(work, { recursive: true, force: true });
  });

  it(
    'runs the template conformance suite from the installed tarballs',
    async () => {
      for (const pkg of packages) {
        if (!existsSync(join(pkg.dir, 'dist', 'index.js'))) {
          throw new Error(`${pkg.name} has no dist/ (${pkg.dir}/dist): run \`pnpm build\` first`);
        }
      }
      const tarballs = join(work, 'tarballs');
      mkdirSync(tarballs);
      for (const pkg of packages)
        expectSuccess(
          await run('pnpm', ['pack', '--pack-destination', tarballs], pkg.dir),
          `pnpm pack of ${pkg.name}`,
        );
      const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
      expect(files).toHaveLength(3);

      for (const file of files) {
        const manifest = await run('tar', ['-xOzf', join(tarballs, file), 'package/package.json'], work);
        expectSuccess(manifest, `reading package.json of ${file}`);
        // pnpm rewrites workspace: ranges into real ones; a leftover would not install from a registry.
        expect(manifest.stdout, file).not.toContain('workspace:');
      }

      const project = join(work, 'project');
      mkdirSync(project);
      const projectManifest = { name: 'faucet-pack-proof', version: '0.0.0', private: true, type: 'module' };
      writeFileSync(join(project, 'package.json'), `${JSON.stringify(projectManifest, null, 2)}\n`);
      const install = await run(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          ...files.map((f) => join(tarballs, f)),
          'vitest@3.2.4',
          'zod@4',
        ],
        project,
      );
      expectSuccess(install, 'npm install of the tarballs');

      cpSync(join(packages[2]?.dir as string, 'test'), join(project, 'test'), { recursive: true });
      writeFileSync(join(project, 'test', 'skips.test.ts'), SKIPS_FIXTURE);
      const report = join(project, 'report.json');
      const tests = await run(
        'npx',
        [
          '--no-install',
          'vitest',
          'run',
          '--reporter=default',
          '--reporter=json',
          `--outputFile.json=${report}`,
        ],
        project,
      );
      expectSuccess(tests, 'npx vitest run in the installed project');
      expect(tests.stdout).toMatch(/Tests\s+\d+ passed/);
      expect(tests.stdout).not.toMatch(/\d+ failed/);

      const results = JSON.parse(readFileSync(report, 'utf8')) as {
        numFailedTests: number;
        testResults: { name: string; assertionResults: { title: string; status: string }[] }[];
      };
      expect(results.numFailedTests).toBe(0);
      const byFile = (suffix: string) =>
        results.testResults.find((r) => r.name.endsWith(suffix))?.assertionResults ?? [];
      const conformance = byFile('conformance.test.ts');
      expect(conformance.length).toBeGreaterThanOrEqual(8);
      expect(conformance.filter((t) => t.status !== 'passed')).toEqual([]);
      const skips = byFile('skips.test.ts');
      const skipped = skips.filter((t) => t.title.includes('(skipped:'));
      expect(skipped.map((t) => t.title)).toEqual(
        expect.arrayContaining([
          expect.stringContaining('bookmark-round-trip'),
          expect.stringContaining('streaming'),
        ]),
      );
      // A skipped capability is reported as skipped, never as passed.
      expect(skipped.every((t) => t.status !== 'passed')).toBe(true);
      expect(skips.filter((t) => !t.title.includes('(skipped:')).every((t) => t.status === 'passed')).toBe(
        true,
      );
    },
    10 * 60_000,
  );
});
