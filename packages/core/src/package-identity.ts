/**
 * A connector's identity comes from its package.json, written once: `faucet.id` and `faucet.kind`
 * (the manifest the CLI lists without importing code) and `version` (stored in every state
 * envelope). Descriptors spread it: `defineSource({ ...connectorPackage(import.meta.url), … })`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PluginKind } from './define.js';
import { ConfigError } from './errors.js';

export interface ConnectorPackage {
  /** `faucet.id` of the package.json: the short name pipeline files use (`type: rest`). */
  readonly id: string;
  /** `faucet.kind`: source, sink, state or transform. */
  readonly kind: PluginKind;
  /** The package's own `version`. */
  readonly version: string;
  /** The package's `name`, for messages. */
  readonly packageName: string;
}

interface PackageJson {
  name?: unknown;
  version?: unknown;
  faucet?: { id?: unknown; kind?: unknown };
}

const KINDS: readonly PluginKind[] = ['source', 'sink', 'state', 'transform'];

/** The nearest package.json at or above the directory of `moduleUrl` (a module's import.meta.url). */
function findPackageJson(moduleUrl: string): { path: string; json: PackageJson } {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const path = join(dir, 'package.json');
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      text = undefined;
    }
    if (text !== undefined) return { path, json: JSON.parse(text) as PackageJson };
    const parent = dirname(dir);
    if (parent === dir) throw new ConfigError(`no package.json found above ${fileURLToPath(moduleUrl)}`);
    dir = parent;
  }
}

/**
 * `{id, kind, version, packageName}` read from the package.json that contains the calling module.
 * Throws ConfigError when that package.json lacks `version` or a `faucet: {id, kind}` manifest.
 */
export function connectorPackage(moduleUrl: string): ConnectorPackage {
  const { path, json } = findPackageJson(moduleUrl);
  const id = json.faucet?.id;
  const kind = json.faucet?.kind;
  if (typeof id !== 'string' || !KINDS.includes(kind as PluginKind)) {
    throw new ConfigError(`${path} has no "faucet": { "kind": …, "id": … } manifest`);
  }
  if (typeof json.version !== 'string') throw new ConfigError(`${path} has no "version"`);
  return {
    id,
    kind: kind as PluginKind,
    version: json.version,
    packageName: typeof json.name === 'string' ? json.name : path,
  };
}
