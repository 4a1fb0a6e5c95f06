import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, connectorPackage, defineSink, defineSource } from '@faucet/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

function packageWith(json: object): string {
  const root = mkdtempSync(join(tmpdir(), 'faucet-identity-'));
  writeFileSync(join(root, 'package.json'), JSON.stringify(json));
  mkdirSync(join(root, 'dist', 'nested'), { recursive: true });
  return pathToFileURL(join(root, 'dist', 'nested', 'index.js')).href;
}

describe('connectorPackage', () => {
  it('reads id, kind and version from the nearest package.json above the module', () => {
    const url = packageWith({
      name: '@acme/faucet-source-x',
      version: '2.3.4',
      faucet: { kind: 'source', id: 'x' },
    });
    expect(connectorPackage(url)).toEqual({
      id: 'x',
      kind: 'source',
      version: '2.3.4',
      packageName: '@acme/faucet-source-x',
    });
    const descriptor = defineSource({
      ...connectorPackage(url),
      configSchema: z.object({}),
      create: () => ({ read: async function* () {} }),
    });
    expect(descriptor.version).toBe('2.3.4');
    expect(descriptor.kind).toBe('source');
  });

  it('refuses a package.json without the faucet manifest or a version, naming the file', () => {
    const noManifest = packageWith({ name: 'x', version: '1.0.0' });
    expect(() => connectorPackage(noManifest)).toThrow(ConfigError);
    expect(() => connectorPackage(noManifest)).toThrow(/package\.json has no "faucet"/);
    const noVersion = packageWith({ name: 'x', faucet: { kind: 'sink', id: 'x' } });
    expect(() => connectorPackage(noVersion)).toThrow(/has no "version"/);
  });

  it('refuses a descriptor whose package.json kind disagrees with its define call', () => {
    const url = packageWith({ name: 'x', version: '1.0.0', faucet: { kind: 'source', id: 'x' } });
    expect(() =>
      defineSink({
        ...connectorPackage(url),
        configSchema: z.object({}),
        create: () => ({ write: async () => {} }),
      }),
    ).toThrow(/declared as a source in its package.json but defined as a sink/);
  });
});
