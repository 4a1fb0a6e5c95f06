import { join } from 'node:path';
import {
  cleanupTempDirs,
  FAKE_SOURCE,
  linkRuntime,
  tempDir,
  write,
  writePackage,
} from '@faucet/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { createDiscovery } from '../src/discovery/index.js';
import { listInstalledConnectors } from '../src/discovery/list.js';
import { searchLocations } from '../src/discovery/locations.js';
import { candidatePackageNames, isPathType } from '../src/discovery/names.js';
import { resolveConnector } from '../src/discovery/resolve.js';
import { ConnectorNotFoundError } from '../src/errors.js';

afterAll(cleanupTempDirs);

const source = (id: string) => ({ apiVersion: 1, kind: 'source', id });

/**
 * Four places, each with its own node_modules: the config's project, the working directory, a plugin
 * directory (FAUCET_PLUGIN_PATH), and a stand-in for the CLI's own package.
 */
function layout() {
  const root = tempDir();
  const project = join(root, 'project');
  const cwd = join(root, 'cwd');
  const plugins = join(root, 'plugins');
  const cli = join(root, 'cli');
  write(join(project, 'pipelines', 'p.yaml'), 'version: 1\n');
  write(join(cli, 'package.json'), '{"name":"@faucet/cli"}');
  write(join(cwd, 'README'), '');
  const options = {
    configDir: join(project, 'pipelines'),
    cwd,
    pluginPath: plugins,
    host: { label: 'faucet CLI', dir: cli },
  };
  return { root, project, cwd, plugins, cli, options, nm: (dir: string) => join(dir, 'node_modules') };
}

describe('package names', () => {
  it('maps short names by kind, scopes, and full names', () => {
    expect(candidatePackageNames('source', 'rest')).toEqual([
      '@faucet/source-rest',
      'faucet-source-rest',
      'rest',
    ]);
    expect(candidatePackageNames('sink', '@acme/x')).toEqual(['@acme/faucet-sink-x', '@acme/x']);
    expect(candidatePackageNames('state', '@faucet/redis')).toEqual(['@faucet/state-redis', '@faucet/redis']);
    expect(candidatePackageNames('source', '@faucet/source-rest')).toEqual(['@faucet/source-rest']);
    expect(candidatePackageNames('source', 'faucet-source-zendesk')).toEqual(['faucet-source-zendesk']);
    expect(candidatePackageNames('sink', '@acme/faucet-sink-x')).toEqual(['@acme/faucet-sink-x']);
  });

  it('tells paths from package names', () => {
    for (const path of ['./conn', '../x/y', '/abs/dir', 'lib/conn.js', 'conn.mjs'])
      expect(isPathType(path)).toBe(true);
    for (const name of ['rest', '@acme/x', 'faucet-source-x']) expect(isPathType(name)).toBe(false);
  });
});

describe('resolution order', () => {
  it('config directory, then working directory, then FAUCET_PLUGIN_PATH, then the CLI', () => {
    const l = layout();
    const put = (dir: string, version: string) =>
      writePackage(l.nm(dir), { name: 'faucet-source-demo', version, faucet: source('demo') });
    put(l.cli, '4.0.0');
    const resolve = () =>
      resolveConnector('source', 'demo', {
        locations: searchLocations(l.options),
        baseDir: l.options.configDir,
      });
    expect(resolve()).toMatchObject({ version: '4.0.0', location: 'faucet CLI' });
    put(l.plugins, '3.0.0');
    expect(resolve()).toMatchObject({ version: '3.0.0', location: 'FAUCET_PLUGIN_PATH' });
    put(l.cwd, '2.0.0');
    expect(resolve()).toMatchObject({ version: '2.0.0', location: 'working directory' });
    // The config directory walks up like Node: project/node_modules serves project/pipelines/p.yaml.
    put(l.project, '1.0.0');
    expect(resolve()).toMatchObject({ version: '1.0.0', location: 'config directory', id: 'demo' });
  });

  it('tries @faucet/<kind>-<id> before faucet-<kind>-<id> within a location', () => {
    const l = layout();
    writePackage(l.nm(l.cwd), { name: 'faucet-source-demo', version: '2.0.0', faucet: source('demo') });
    writePackage(l.nm(l.cwd), { name: '@faucet/source-demo', version: '1.0.0', faucet: source('demo') });
    const found = resolveConnector('source', 'demo', {
      locations: searchLocations(l.options),
      baseDir: l.cwd,
    });
    expect(found.package).toBe('@faucet/source-demo');
  });

  it('reads manifests of ESM packages whose exports map hides package.json', () => {
    const l = layout();
    const dir = writePackage(l.nm(l.plugins), {
      name: '@acme/faucet-sink-x',
      faucet: { apiVersion: 1, kind: 'sink', id: 'x' },
      strictExports: true,
    });
    const found = resolveConnector('sink', '@acme/x', {
      locations: searchLocations(l.options),
      baseDir: l.cwd,
    });
    expect(found).toMatchObject({ package: '@acme/faucet-sink-x', dir, entry: join(dir, 'index.js') });
  });

  it('passes over a package of the wrong kind and finds one by its manifest id', () => {
    const l = layout();
    writePackage(l.nm(l.cwd), {
      name: 'faucet-source-demo',
      faucet: { apiVersion: 1, kind: 'sink', id: 'demo' },
    });
    writePackage(l.nm(l.plugins), { name: 'acme-demo-connector', faucet: source('demo') });
    const found = resolveConnector('source', 'demo', {
      locations: searchLocations(l.options),
      baseDir: l.cwd,
    });
    expect(found.package).toBe('acme-demo-connector');
  });

  it('resolves a path relative to the pipeline file', () => {
    const l = layout();
    const dir = writePackage(join(l.project, 'connectors'), {
      name: 'my-source',
      faucet: source('mine'),
    });
    const found = resolveConnector('source', '../connectors/my-source', {
      locations: searchLocations(l.options),
      baseDir: l.options.configDir,
    });
    expect(found).toMatchObject({ dir, location: 'path', id: 'mine' });
  });

  it('serves the built-in state stores without looking anywhere', () => {
    const l = layout();
    const found = resolveConnector('state', 'file', {
      locations: searchLocations(l.options),
      baseDir: l.cwd,
    });
    expect(found).toMatchObject({ package: '@faucet/core', location: 'built in' });
  });

  it('names every place tried and the nearest installed ids when nothing is found', () => {
    const l = layout();
    writePackage(l.nm(l.plugins), { name: 'faucet-source-postgres', faucet: source('postgres') });
    writePackage(l.nm(l.cli), { name: 'faucet-source-postgres-cdc', faucet: source('postgres-cdc') });
    let error: unknown;
    try {
      resolveConnector('source', 'postgress', { locations: searchLocations(l.options), baseDir: l.cwd });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConnectorNotFoundError);
    const message = (error as Error).message;
    expect(message).toContain('source "postgress" is not installed');
    expect(message).toContain('@faucet/source-postgress, faucet-source-postgress');
    expect(message).toContain(
      `config directory: no node_modules directory at or above ${l.options.configDir}`,
    );
    expect(message).toContain(`working directory: no node_modules directory at or above ${l.cwd}`);
    expect(message).toContain(`FAUCET_PLUGIN_PATH: ${l.nm(l.plugins)}`);
    expect(message).toContain(`faucet CLI: ${l.nm(l.cli)}`);
    expect(message).toContain('did you mean "postgres"');
    expect((error as ConnectorNotFoundError).suggestions[0]).toBe('postgres');
  });
});

describe('listing and loading', () => {
  it('lists built-ins and installed packages without importing them, marking shadowed ones', () => {
    const l = layout();
    // This entry module would throw if imported: listing must only read package.json.
    const boom = 'throw new Error("imported!");\n';
    writePackage(l.nm(l.cwd), {
      name: 'faucet-source-demo',
      version: '2.0.0',
      faucet: source('demo'),
      code: boom,
    });
    writePackage(l.nm(l.cli), {
      name: '@faucet/source-demo',
      version: '1.0.0',
      faucet: source('demo'),
      code: boom,
    });
    writePackage(l.nm(l.cli), {
      name: 'faucet-sink-bad',
      faucet: { apiVersion: 2, kind: 'sink', id: 'bad' },
    });
    writePackage(l.nm(l.cli), { name: 'left-pad' });
    const { connectors, broken } = listInstalledConnectors(searchLocations(l.options));
    expect(connectors.map((c) => [c.kind, c.id, c.package, c.version, c.location, c.shadowed])).toEqual([
      ['state', 'memory', '@faucet/core', expect.any(String), 'built in', false],
      ['state', 'file', '@faucet/core', expect.any(String), 'built in', false],
      ['source', 'demo', 'faucet-source-demo', '2.0.0', 'working directory', false],
      ['source', 'demo', '@faucet/source-demo', '1.0.0', 'faucet CLI', true],
    ]);
    expect(broken).toEqual([
      { package: 'faucet-sink-bad', dir: expect.any(String), problem: expect.stringContaining('apiVersion') },
    ]);
  });

  it('imports the descriptor and checks its kind', async () => {
    const l = layout();
    linkRuntime(l.nm(l.plugins));
    writePackage(l.nm(l.plugins), { name: 'faucet-source-fake', faucet: source('fake'), code: FAKE_SOURCE });
    writePackage(l.nm(l.plugins), {
      name: 'faucet-sink-fake',
      faucet: { apiVersion: 1, kind: 'sink', id: 'fake' },
      code: FAKE_SOURCE, // a source descriptor under a sink manifest
    });
    const discovery = createDiscovery(l.options);
    const { descriptor } = await discovery.load('source', 'fake');
    expect(descriptor).toMatchObject({ kind: 'source', id: 'fake', version: '1.2.3' });
    await expect(discovery.load('sink', 'fake')).rejects.toThrow(/must default-export a sink descriptor/);
  });
});
