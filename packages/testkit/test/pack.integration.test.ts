/**
 * The publishing proof: pack @faucet/core, @faucet/testkit, the connector template and the CLI (with the
 * packages it needs at run time) with `pnpm pack`, install all the tarballs with one npm install into a
 * fresh project outside the workspace, then, there: run the template's conformance suite, list the
 * connectors with `faucet connectors` (the template among them, found by discovery) and run a pipeline
 * that reads through the template source from its test HTTP server. It needs dist/ (the root
 * `pnpm test` builds first) and the npm registry (for vitest, zod and the packages' own dependencies).
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FaucetRecord } from '@faucet/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RecordsServer,
  startRecordsServer,
} from '../../../examples/connector-template/test/records-server.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const TEMPLATE = 'faucet-source-example';
const packages = [
  { name: '@faucet/core', dir: join(root, 'packages/core') },
  { name: '@faucet/testkit', dir: join(root, 'packages/testkit') },
  { name: TEMPLATE, dir: join(root, 'examples/connector-template') },
  { name: '@faucet/pipeline', dir: join(root, 'packages/pipeline') },
  { name: '@faucet/runner-bullmq', dir: join(root, 'packages/runner-bullmq') },
  { name: '@faucet/dashboard-bullmq', dir: join(root, 'packages/dashboard-bullmq') },
  { name: '@faucet/cli', dir: join(root, 'apps/cli') },
  { name: '@faucet/formats', dir: join(root, 'packages/formats') },
  { name: '@faucet/source-file', dir: join(root, 'packages/source-file') },
  { name: '@faucet/sink-file', dir: join(root, 'packages/sink-file') },
  { name: '@faucet/sink-stdout', dir: join(root, 'packages/sink-stdout') },
];
const templateDir = join(root, 'examples/connector-template');
const COMMAND_TIMEOUT_MS = 5 * 60_000;
/** One `faucet` command in the installed project: a few seconds at most. */
const CLI_TIMEOUT_MS = 60_000;
const INSTALL_TIMEOUT_MS = 10 * 60_000;

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
    // Only the installed project's node_modules may supply connectors.
    if (key === 'FAUCET_PLUGIN_PATH') continue;
    env[key] = value;
  }
  env.CI = 'true';
  env.NO_COLOR = '1';
  return env;
}

function run(
  command: string,
  args: string[],
  cwd: string,
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Outcome> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      {
        cwd,
        env: { ...cleanEnv(), ...options.env },
        timeout: options.timeoutMs ?? COMMAND_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

function describeOutcome(outcome: Outcome): string {
  return `--- stdout\n${outcome.stdout}\n--- stderr\n${outcome.stderr}`;
}

function expectSuccess(outcome: Outcome, what: string): void {
  if (outcome.code !== 0) throw new Error(`${what} exited ${outcome.code}\n${describeOutcome(outcome)}`);
}

/** stdout of a successful command, parsed as one JSON document. */
function jsonOf<T>(outcome: Outcome, what: string): T {
  expectSuccess(outcome, what);
  try {
    return JSON.parse(outcome.stdout) as T;
  } catch (error) {
    throw new Error(
      `${what} did not print one JSON document (${String(error)})\n${describeOutcome(outcome)}`,
    );
  }
}

/** `faucet …` through the bin npm linked into the installed project. */
function faucet(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Outcome> {
  return run('npx', ['--no-install', 'faucet', ...args], cwd, { env, timeoutMs: CLI_TIMEOUT_MS });
}

/** A second test file for the installed project: undeclared capabilities must show as skipped. */
const SKIPS_FIXTURE = `import { memorySource, testSource } from '@faucet/testkit';

testSource({
  name: 'bare',
  create: ({ records }) => memorySource({ records }),
  capabilities: { bookmarks: false, streaming: false },
});
`;

interface ListedConnectors {
  connectors: Array<{
    kind: string;
    id: string;
    package: string;
    version: string;
    location: string;
    dir: string;
    shadowed: boolean;
  }>;
  broken: Array<{ package: string; dir: string; problem: string }>;
}

interface RunSummary {
  status: string;
  records_written: number;
  rows: Array<{ id: string; status: string; invocations: number }>;
  invocations: Array<{
    state_key: string;
    status: string;
    records_read: number;
    records_written: number;
    error?: { code: string; message: string };
  }>;
}

describe('pack and install outside the workspace', () => {
  const work = mkdtempSync(join(tmpdir(), 'faucet-pack-proof-'));
  const project = join(work, 'project');
  afterAll(() => {
    if (!process.env.FAUCET_KEEP_PACK_DIR) rmSync(work, { recursive: true, force: true });
  });

  beforeAll(async () => {
    for (const pkg of packages) {
      if (!existsSync(join(pkg.dir, 'dist', 'index.js'))) {
        throw new Error(`${pkg.name} has no dist/ (${pkg.dir}/dist): run \`pnpm build\` first`);
      }
    }
    const tarballs = join(work, 'tarballs');
    mkdirSync(tarballs);
    await Promise.all(
      packages.map(async (pkg) =>
        expectSuccess(
          await run('pnpm', ['pack', '--pack-destination', tarballs], pkg.dir),
          `pnpm pack of ${pkg.name}`,
        ),
      ),
    );
    const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
    expect(files).toHaveLength(packages.length);

    for (const file of files) {
      const manifest = await run('tar', ['-xOzf', join(tarballs, file), 'package/package.json'], work);
      expectSuccess(manifest, `reading package.json of ${file}`);
      // pnpm rewrites workspace: ranges into real ones; a leftover would not install from a registry.
      expect(manifest.stdout, file).not.toContain('workspace:');
    }

    mkdirSync(project);
    const projectManifest = { name: 'faucet-pack-proof', version: '0.0.0', private: true, type: 'module' };
    writeFileSync(join(project, 'package.json'), `${JSON.stringify(projectManifest, null, 2)}\n`);
    // One install of every tarball, so npm satisfies the packages' @faucet/* dependencies with them.
    const install = await run(
      'npm',
      ['install', '--no-audit', '--no-fund', ...files.map((f) => join(tarballs, f)), 'vitest@3.2.4', 'zod@4'],
      project,
    );
    expectSuccess(install, 'npm install of the tarballs');

    // Every faucet package is installed once, at the top, from its tarball (none from a registry).
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string }>;
    };
    const faucetEntries = Object.entries(lock.packages)
      .filter(([path]) => /(^|\/)node_modules\/(@faucet\/[^/]+|faucet-source-example)$/.test(path))
      .map(([path, entry]) => `${path} ${entry.resolved?.startsWith('file:') ? 'tarball' : entry.resolved}`)
      .sort();
    expect(faucetEntries).toEqual(packages.map((p) => `node_modules/${p.name} tarball`).sort());
  }, INSTALL_TIMEOUT_MS);

  it(
    'runs the template conformance suite from the installed tarballs',
    async () => {
      cpSync(join(templateDir, 'test'), join(project, 'test'), { recursive: true });
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
    5 * 60_000,
  );

  it('lists the installed template with `faucet connectors`', async () => {
    const what = 'faucet connectors -o json in the installed project';
    const listed = jsonOf<ListedConnectors>(await faucet(['connectors', '-o', 'json'], project), what);
    const { version } = JSON.parse(readFileSync(join(templateDir, 'package.json'), 'utf8')) as {
      version: string;
    };
    const lines = listed.connectors.map((c) => `${c.kind} ${c.id} ${c.package} ${c.version} ${c.location}`);
    const inProject = (kind: string, id: string, pkg: string) =>
      `${kind} ${id} ${pkg} 0.1.0 working directory`;
    expect(lines, JSON.stringify(listed, null, 2)).toEqual(
      expect.arrayContaining([
        `source example ${TEMPLATE} ${version} working directory`,
        inProject('source', 'file', '@faucet/source-file'),
        inProject('sink', 'file', '@faucet/sink-file'),
        inProject('sink', 'stdout', '@faucet/sink-stdout'),
        'state file @faucet/core 0.1.0 built in',
        'state memory @faucet/core 0.1.0 built in',
      ]),
    );
    const example = listed.connectors.find((c) => c.kind === 'source' && c.id === 'example');
    expect(realpathSync(example?.dir ?? '')).toBe(realpathSync(join(project, 'node_modules', TEMPLATE)));
    expect(listed.connectors.filter((c) => c.shadowed)).toEqual([]);
    expect(listed.broken).toEqual([]);
  });

  it('runs a pipeline that reads through the installed template source', async () => {
    const token = `pack-proof-${Math.random().toString(36).slice(2)}-token`;
    const records: FaucetRecord[] = Array.from({ length: 250 }, (_, i) => ({
      id: i + 1,
      name: `record ${i + 1}`,
      even: (i + 1) % 2 === 0,
    }));
    let server: RecordsServer | undefined;
    try {
      server = await startRecordsServer({ token });
      server.load(records);
      // `type: example` must resolve to faucet-source-example through discovery (its manifest id).
      writeFileSync(
        join(project, 'pipeline.yaml'),
        `version: 1
name: example_api
pipeline:
  source:
    type: example
    config:
      url: ${server.url}
      token: \${env:EXAMPLE_TOKEN}
      page_size: 100
  sink: { type: file, config: { path: ./out.jsonl, format: jsonl } }
  state: { type: file, config: { path: ./state } }
`,
      );
      const env = { EXAMPLE_TOKEN: token };
      const noToken = (outcome: Outcome, what: string) => {
        expect(outcome.stdout, `${what}: the token in stdout`).not.toContain(token);
        expect(outcome.stderr, `${what}: the token in stderr`).not.toContain(token);
      };

      const first = await faucet(['run', 'pipeline.yaml', '-o', 'json'], project, env);
      noToken(first, 'first run');
      const summary = jsonOf<RunSummary>(first, 'faucet run pipeline.yaml (first run)');
      expect(summary.status, describeOutcome(first)).toBe('ok');
      expect(summary.records_written, describeOutcome(first)).toBe(250);
      expect(summary.rows, describeOutcome(first)).toEqual([{ id: 'row-0', status: 'ok', invocations: 1 }]);
      expect(summary.invocations, describeOutcome(first)).toMatchObject([
        { state_key: 'example_api::row-0', status: 'ok', records_read: 250, records_written: 250 },
      ]);
      expect(server.served).toBe(250);

      const out = readFileSync(join(project, 'out.jsonl'), 'utf8');
      expect(out).not.toContain(token);
      const written = out
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as FaucetRecord);
      expect(written).toEqual(records);
      const stateDir = join(project, 'state');
      for (const file of readdirSync(stateDir, { recursive: true, encoding: 'utf8' })) {
        const path = join(stateDir, file);
        if (statSync(path).isFile()) expect(readFileSync(path, 'utf8'), path).not.toContain(token);
      }

      // Resumed from the stored bookmark: nothing new, nothing written again.
      const second = await faucet(['run', 'pipeline.yaml', '-o', 'json'], project, env);
      noToken(second, 'second run');
      const again = jsonOf<RunSummary>(second, 'faucet run pipeline.yaml (second run)');
      expect(again.status, describeOutcome(second)).toBe('ok');
      expect(again.records_written, describeOutcome(second)).toBe(0);
      expect(server.served).toBe(250);
      expect(readFileSync(join(project, 'out.jsonl'), 'utf8')).toBe(out);
    } finally {
      await server?.close();
    }
  });
});
