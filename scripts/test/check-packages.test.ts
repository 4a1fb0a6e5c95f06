/**
 * scripts/check-packages.mjs: the rules a publishable package is held to, on package.json and
 * tarball fixtures (the real packages are checked by `pnpm check:packages` in CI).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script without types
import * as check from '../check-packages.mjs';

const { manifestProblems, tarballProblems, packagesToCheck, FILES } = check as {
  manifestProblems: (dir: string, manifest: object, context: object) => string[];
  tarballProblems: (files: string[], packed: object, read: (file: string) => string) => string[];
  packagesToCheck: () => Array<{ dir: string; manifest: { name: string; private?: boolean } }>;
  FILES: string[];
};

const root = join(import.meta.dirname, '..', '..');
const context = () => ({ rootLicense: readFileSync(join(root, 'LICENSE'), 'utf8'), versions: [] });
const manifest = (dir: string) => JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));

describe('package.json rules', () => {
  it('a package shaped like sink-postgres passes', () => {
    expect(manifestProblems('packages/sink-postgres', manifest('packages/sink-postgres'), context())).toEqual(
      [],
    );
  });

  it('each missing field is named with the value to set', () => {
    const bare = { ...manifest('packages/sink-postgres'), name: '@faucet/sink-example' };
    bare.faucet = { apiVersion: 1, kind: 'sink', id: 'example' };
    for (const field of ['repository', 'homepage', 'bugs', 'files', 'publishConfig']) delete bare[field];
    bare.peerDependencies = { '@faucet/core': 'workspace:^' };
    const problems = manifestProblems('packages/sink-example', bare, context());
    expect(problems).toEqual(
      expect.arrayContaining([
        'LICENSE: the file packages/sink-example/LICENSE must be a copy of the root LICENSE: cp LICENSE packages/sink-example/LICENSE',
        'repository: set "repository": {"type":"git","url":"git+https://github.com/faucet-data/faucet.git","directory":"packages/sink-example"}',
        'homepage: set "homepage": "https://github.com/faucet-data/faucet/tree/main/packages/sink-example#readme"',
        'bugs: set "bugs": {"url":"https://github.com/faucet-data/faucet/issues"}',
        `files: set "files": ${JSON.stringify(FILES)}`,
        'publishConfig: set "publishConfig": {"access": "public"}',
        expect.stringMatching(/^peerDependencies\.@faucet\/core: set "workspace:\^0"/),
      ]),
    );
  });

  it('a connector folder must match its manifest', () => {
    const wrong = {
      ...manifest('packages/sink-postgres'),
      faucet: { apiVersion: 1, kind: 'source', id: 'postgres' },
    };
    expect(manifestProblems('packages/sink-postgres', wrong, context())).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^faucet\.id: /),
        expect.stringMatching(/^keywords: add "faucet-source"/),
      ]),
    );
  });

  it('walks the workspace: every public package, and the private connector template', () => {
    const dirs = packagesToCheck().map((p) => p.dir);
    expect(dirs).toEqual(
      expect.arrayContaining(['packages/core', 'apps/cli', 'examples/connector-template']),
    );
    expect(dirs).not.toContain('packages/test-support');
    expect(dirs).not.toContain('bench');
  });
});

describe('tarball rules', () => {
  const packed = {
    name: '@faucet/x',
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
  };
  const map = (sources: string[]) => JSON.stringify({ version: 3, sources, mappings: '' });

  it('a clean tarball passes', () => {
    const files = [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/index.js.map',
      'src/index.ts',
    ];
    expect(tarballProblems(files, packed, () => map(['../src/index.ts']))).toEqual([]);
  });

  it('names build info, tests, maps without sources, missing export targets and workspace ranges', () => {
    const files = [
      'package.json',
      'dist/index.d.ts',
      'dist/.tsbuildinfo',
      'dist/index.js.map',
      'test/a.test.ts',
    ];
    const problems = tarballProblems(
      files,
      { ...packed, dependencies: { '@faucet/core': 'workspace:^' } },
      () => map(['../src/index.ts']),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('dist/.tsbuildinfo is shipped'),
        expect.stringContaining('test file test/a.test.ts is shipped'),
        expect.stringContaining(
          'source map(s) point at sources that are not shipped (dist/index.js.map -> src/index.ts)',
        ),
        expect.stringContaining('./dist/index.js (named in "exports" or "bin") is not shipped'),
        expect.stringContaining('"workspace:" range'),
      ]),
    );
  });
});
