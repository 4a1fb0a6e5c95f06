#!/usr/bin/env node
/**
 * Package hygiene for every publishable package of the workspace (`pnpm check:packages`; CI runs it).
 *
 * Walks pnpm-workspace.yaml, so a package added later is checked without touching this file. Public
 * packages (no `"private": true`) are checked, and so is a private package that carries a `faucet`
 * connector manifest (the connector template, which users copy and the release rehearsal packs).
 * For each one it checks the package.json fields CONTRIBUTING.md lists, then packs it with
 * `pnpm pack` (what `pnpm publish` uploads: `workspace:` ranges rewritten, `prepack` run) and checks
 * the tarball: no test or .tsbuildinfo file, every source map shipped with its sources, every export
 * target present, and `publint` and `attw` (ESM-only profile) clean.
 *
 *   pnpm check:packages                   # every package (needs `pnpm build`)
 *   pnpm check:packages sink-postgres cli # only these (folder names or package names)
 *
 * Every problem is printed as `<folder>/package.json: <field>: <what to set>`; exit 1 if any.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const REPOSITORY_URL = 'git+https://github.com/faucet-data/faucet.git';
export const HOMEPAGE_BASE = 'https://github.com/faucet-data/faucet/tree/main';
export const BUGS_URL = 'https://github.com/faucet-data/faucet/issues';
export const LICENSE_ID = 'Apache-2.0';
export const ENGINES_NODE = '>=20.19';
/** Any core of the current major line (0.x now); `faucet.apiVersion` is the contract the CLI checks. */
export const CORE_PEER_RANGE = 'workspace:^0';
export const FILES = ['dist', 'src', '!dist/.tsbuildinfo', 'README.md'];
/** Top-level entries a tarball may hold (npm adds package.json, README and LICENSE by itself). */
const ALLOWED_TOP = new Set(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin', 'dist', 'src']);
const CONNECTOR_KINDS = ['source', 'sink', 'state'];

/** Workspace package folders, from pnpm-workspace.yaml's `packages:` globs (`dir/*` or `dir`). */
export function workspaceDirs() {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const block = yaml.split(/^packages:\s*$/m)[1]?.split(/^\S/m)[0] ?? '';
  const globs = [...block.matchAll(/^\s+-\s+['"]?([^'"\s]+)['"]?\s*$/gm)].map((m) => m[1]);
  const dirs = [];
  for (const glob of globs) {
    if (glob.endsWith('/*')) {
      const parent = join(root, glob.slice(0, -2));
      if (!existsSync(parent)) continue;
      for (const entry of readdirSync(parent, { withFileTypes: true }).sort((a, b) =>
        a.name.localeCompare(b.name),
      )) {
        if (entry.isDirectory() && existsSync(join(parent, entry.name, 'package.json'))) {
          dirs.push(posix.join(glob.slice(0, -2), entry.name));
        }
      }
    } else if (existsSync(join(root, glob, 'package.json'))) {
      dirs.push(glob);
    }
  }
  return dirs;
}

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** The packages to check: public ones, and private ones with a connector manifest (the template). */
export function packagesToCheck() {
  return workspaceDirs()
    .map((dir) => ({ dir, manifest: readJson(join(root, dir, 'package.json')) }))
    .filter(({ manifest }) => manifest.private !== true || manifest.faucet !== undefined);
}

const show = (value) => JSON.stringify(value);

/** Problems in one package.json, each naming the field and the value to set. */
export function manifestProblems(dir, manifest, { rootLicense, versions }) {
  const problems = [];
  const want = (field, ok, fix) => {
    if (!ok) problems.push(`${field}: ${fix}`);
  };
  const isPublic = manifest.private !== true;
  const folder = dir.split('/').at(-1);

  if (dir.startsWith('packages/')) {
    want(
      'name',
      manifest.name === `@faucet/${folder}`,
      `set "name": ${show(`@faucet/${folder}`)} (the folder name)`,
    );
  } else if (isPublic) {
    want('name', manifest.name?.startsWith('@faucet/'), 'set a "@faucet/..." name');
  }
  want('version', typeof manifest.version === 'string', 'set "version" (the fixed group\'s current one)');
  if (isPublic && manifest.name?.startsWith('@faucet/')) versions.push({ dir, version: manifest.version });
  want(
    'description',
    typeof manifest.description === 'string' && manifest.description.length >= 20,
    'set a one-sentence "description"',
  );
  want('license', manifest.license === LICENSE_ID, `set "license": ${show(LICENSE_ID)}`);
  const licensePath = join(root, dir, 'LICENSE');
  want(
    'LICENSE',
    existsSync(licensePath) && readFileSync(licensePath, 'utf8') === rootLicense,
    `the file ${dir}/LICENSE must be a copy of the root LICENSE: cp LICENSE ${dir}/LICENSE`,
  );
  want('README.md', existsSync(join(root, dir, 'README.md')), `add ${dir}/README.md`);
  const repo = manifest.repository;
  want(
    'repository',
    repo?.type === 'git' && repo?.url === REPOSITORY_URL && repo?.directory === dir,
    `set "repository": ${show({ type: 'git', url: REPOSITORY_URL, directory: dir })}`,
  );
  const homepage = `${HOMEPAGE_BASE}/${dir}#readme`;
  want('homepage', manifest.homepage === homepage, `set "homepage": ${show(homepage)}`);
  want('bugs', manifest.bugs?.url === BUGS_URL, `set "bugs": ${show({ url: BUGS_URL })}`);
  want('type', manifest.type === 'module', 'set "type": "module" (faucet packages are ESM only)');
  want('sideEffects', manifest.sideEffects === false, 'set "sideEffects": false');
  want('engines', manifest.engines?.node === ENGINES_NODE, `set "engines": ${show({ node: ENGINES_NODE })}`);
  // A package with a command ships its committed bin/ launcher too (linked before any build).
  const files = manifest.bin === undefined ? FILES : ['bin', ...FILES];
  want('files', show(manifest.files) === show(files), `set "files": ${show(files)}`);
  if (isPublic) {
    want(
      'publishConfig',
      manifest.publishConfig?.access === 'public',
      'set "publishConfig": {"access": "public"}',
    );
  }
  want(
    'scripts.prepack',
    manifest.scripts?.prepack === 'tsc -b',
    'set "scripts": {"prepack": "tsc -b", ...} (a pack builds first)',
  );

  const keywords = Array.isArray(manifest.keywords) ? manifest.keywords : [];
  want('keywords', keywords.includes('faucet'), 'add "faucet" to "keywords"');
  const exports = manifest.exports;
  const dot = exports?.['.'];
  want(
    'exports',
    dot &&
      typeof dot === 'object' &&
      typeof dot.types === 'string' &&
      typeof dot.default === 'string' &&
      Object.keys(dot)[0] === 'types',
    'set "exports": {".": {"types": "./dist/index.d.ts", "default": "./dist/index.js"}, "./package.json": "./package.json"} (types first)',
  );
  want(
    'exports',
    exports?.['./package.json'] === './package.json',
    'add "./package.json": "./package.json" to "exports"',
  );

  const corePeer = manifest.peerDependencies?.['@faucet/core'];
  want(
    'peerDependencies.@faucet/core',
    corePeer === undefined || corePeer === CORE_PEER_RANGE,
    `set ${show(CORE_PEER_RANGE)}: the current major line, so a minor release of core does not force a ` +
      'major release of every package (changesets; see CONTRIBUTING.md)',
  );
  for (const [field, deps] of [
    ['dependencies', manifest.dependencies],
    ['peerDependencies', manifest.peerDependencies],
  ]) {
    for (const [name, range] of Object.entries(deps ?? {})) {
      if (name.startsWith('@faucet/') && !String(range).startsWith('workspace:')) {
        want(`${field}.${name}`, false, `use a "workspace:" range (pnpm writes the real version on publish)`);
      }
      if (/^(file|link):/.test(String(range))) want(`${field}.${name}`, false, 'no file: or link: ranges');
    }
  }

  const plugin = manifest.faucet;
  if (plugin !== undefined) {
    want(
      'faucet.apiVersion',
      plugin.apiVersion === 1,
      'set "faucet": {"apiVersion": 1, "kind": ..., "id": ...}',
    );
    want(
      'faucet.kind',
      CONNECTOR_KINDS.includes(plugin.kind),
      `set "faucet.kind" to one of ${CONNECTOR_KINDS.join(', ')}`,
    );
    if (dir.startsWith('packages/')) {
      want(
        'faucet.id',
        `${plugin.kind}-${plugin.id}` === folder,
        `"faucet" must say kind and id of the folder: ${folder} = <kind>-<id>`,
      );
    }
    for (const keyword of ['faucet-connector', `faucet-${plugin.kind}`]) {
      want('keywords', keywords.includes(keyword), `add ${show(keyword)} to "keywords" (connector search)`);
    }
    want(
      'peerDependencies',
      manifest.peerDependencies?.['@faucet/core'] !== undefined,
      `a connector has "peerDependencies": {"@faucet/core": ${show(CORE_PEER_RANGE)}} (one core per process)`,
    );
    want(
      'dependencies',
      manifest.dependencies?.['@faucet/core'] === undefined,
      'move @faucet/core from "dependencies" to "peerDependencies"',
    );
  }
  return problems;
}

/** Problems in the packed files: the list as `pnpm pack --json` prints it, and the packed manifest. */
export function tarballProblems(files, packed, readPacked) {
  const problems = [];
  const set = new Set(files);
  const orphanMaps = [];
  for (const file of files) {
    const top = file.split('/')[0];
    if (!ALLOWED_TOP.has(top))
      problems.push(
        `tarball: ${file} is shipped; only ${[...ALLOWED_TOP].join(', ')} belong in it ("files")`,
      );
    if (/\.tsbuildinfo$/.test(file))
      problems.push(`tarball: ${file} is shipped; keep "!dist/.tsbuildinfo" in "files"`);
    if (/(^|\/)(test|tests|__tests__)\/|\.(test|spec)\.[cm]?[jt]s$/.test(file)) {
      problems.push(`tarball: test file ${file} is shipped; tests live in test/, outside "files"`);
    }
    if (file.endsWith('.map')) {
      let map;
      try {
        map = JSON.parse(readPacked(file));
      } catch {
        problems.push(`tarball: ${file} is not a readable source map`);
        continue;
      }
      for (const source of map.sources ?? []) {
        const target = posix.normalize(posix.join(posix.dirname(file), map.sourceRoot ?? '', source));
        if (!set.has(target)) orphanMaps.push(`${file} -> ${target}`);
      }
    }
  }
  if (orphanMaps.length > 0) {
    problems.push(
      `tarball: ${orphanMaps.length} source map(s) point at sources that are not shipped (${orphanMaps[0]}` +
        `${orphanMaps.length > 1 ? ', ...' : ''}); keep "src" in "files"`,
    );
  }
  const text = JSON.stringify(packed);
  if (text.includes('"workspace:'))
    problems.push('tarball: package.json still holds a "workspace:" range (pack with pnpm)');
  const targets = [];
  const collect = (value) => {
    if (typeof value === 'string') targets.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(collect);
  };
  collect(packed.exports);
  for (const bin of typeof packed.bin === 'string' ? [packed.bin] : Object.values(packed.bin ?? {}))
    targets.push(bin);
  for (const target of targets) {
    const path = posix.normalize(target);
    if (!set.has(path))
      problems.push(`tarball: ${target} (named in "exports" or "bin") is not shipped; run pnpm build`);
  }
  return problems;
}

async function pack(dir, destination) {
  // --json prints the file list; prepack (tsc -b) runs first, as on publish.
  const { stdout } = await run('pnpm', ['pack', '--json', '--pack-destination', destination], {
    cwd: join(root, dir),
    maxBuffer: 64 * 1024 * 1024,
  });
  const json = JSON.parse(stdout.slice(stdout.indexOf('{')));
  return { tarball: json.filename, files: json.files.map((f) => f.path) };
}

async function extract(tarball, into) {
  await run('tar', ['-xzf', tarball, '-C', into]);
  return join(into, 'package');
}

async function publintProblems(unpackedDir) {
  const { publint } = await import('publint');
  const { formatMessage } = await import('publint/utils');
  // The unpacked tarball holds exactly the published files, so publint needs no pack of its own.
  const { messages, pkg } = await publint({
    pkgDir: unpackedDir,
    pack: false,
    level: 'warning',
    strict: true,
  });
  return messages.map((m) => `publint (${m.type}): ${formatMessage(m, pkg, { color: false }) ?? m.code}`);
}

async function attwProblems(tarball) {
  const bin = join(root, 'node_modules/.bin/attw');
  try {
    await run(bin, [tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-color'], {
      maxBuffer: 16 * 1024 * 1024,
    });
    return [];
  } catch (error) {
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim();
    return [`attw --profile esm-only failed:\n${output.replace(/^/gm, '      ')}`];
  }
}

async function checkOne({ dir, manifest }, context, scratch) {
  const problems = manifestProblems(dir, manifest, context).map((p) =>
    /^(LICENSE|README\.md): /.test(p) ? `${dir}/${p}` : `${dir}/package.json: ${p}`,
  );
  const into = mkdtempSync(join(scratch, `${dir.replaceAll('/', '-')}-`));
  let packed;
  try {
    packed = await pack(dir, into);
  } catch (error) {
    problems.push(
      `${dir}: pnpm pack failed: ${`${error.stderr ?? ''}${error.stdout ?? ''}`.trim() || error.message}`,
    );
    return problems;
  }
  const unpacked = await extract(packed.tarball, into);
  const packedManifest = readJson(join(unpacked, 'package.json'));
  const read = (file) => readFileSync(join(unpacked, file), 'utf8');
  const packedProblems = [
    ...tarballProblems(packed.files, packedManifest, read),
    ...(await publintProblems(unpacked)),
    ...(await attwProblems(packed.tarball)),
  ];
  problems.push(...packedProblems.map((p) => `${dir}: ${p}`));
  return problems;
}

/** Run `tasks` (functions returning promises) at most `limit` at a time, results in order. */
async function pool(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

async function main(args) {
  let targets = packagesToCheck();
  if (args.length > 0) {
    targets = targets.filter(({ dir, manifest }) =>
      args.some((a) => a === dir || a === dir.split('/').at(-1) || a === manifest.name),
    );
    if (targets.length === 0) {
      console.error(`check-packages: no publishable package matches ${args.join(', ')}`);
      return 2;
    }
  }
  const rootLicense = readFileSync(join(root, 'LICENSE'), 'utf8');
  const context = { rootLicense, versions: [] };
  const scratch = mkdtempSync(join(tmpdir(), 'faucet-check-packages-'));
  const started = Date.now();
  let failures = 0;
  try {
    const results = await pool(
      targets.map((target) => () => checkOne(target, context, scratch)),
      Number(process.env.FAUCET_CHECK_CONCURRENCY ?? 2),
    );
    const distinct = new Set(context.versions.map((v) => v.version));
    if (args.length === 0 && distinct.size > 1) {
      failures++;
      console.log(
        `✗ versions: the @faucet packages version together (changesets "fixed" group), but found ${context.versions.map((v) => `${v.dir}@${v.version}`).join(', ')}`,
      );
    }
    targets.forEach(({ dir, manifest }, i) => {
      const problems = results[i];
      if (problems.length === 0) {
        console.log(`✓ ${manifest.name} (${dir})`);
        return;
      }
      failures += problems.length;
      console.log(
        `✗ ${manifest.name} (${dir}): ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      );
      for (const problem of problems) console.log(`    ${problem}`);
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    failures === 0
      ? `check-packages: ${targets.length} packages publishable (fields, tarball, publint, attw) in ${seconds}s`
      : `check-packages: ${failures} problem${failures === 1 ? '' : 's'} in ${targets.length} packages; the required fields are listed in CONTRIBUTING.md`,
  );
  return failures === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
