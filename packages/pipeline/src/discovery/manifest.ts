/**
 * Reading a connector package's `package.json` — its `"faucet"` manifest field tells its kind and id
 * without importing any of its code (the oclif way: list plugins from manifests).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type ConnectorKind = 'source' | 'sink' | 'state';
export const CONNECTOR_KINDS: readonly ConnectorKind[] = ['source', 'sink', 'state'];

export interface FaucetManifest {
  apiVersion: 1;
  kind: ConnectorKind;
  id: string;
}

export interface PackageInfo {
  name: string;
  version: string;
  /** The package directory (symlinks resolved). */
  dir: string;
  json: { [key: string]: unknown };
  /** The manifest, when the package has a valid one. */
  manifest?: FaucetManifest;
  /** Why the `"faucet"` field is unusable, when there is one but it is wrong. */
  manifestProblem?: string;
}

function isObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Check a `"faucet"` field. Returns the manifest or a reason it cannot be used. */
export function parseManifest(value: unknown): { manifest: FaucetManifest } | { problem: string } {
  if (!isObject(value)) return { problem: 'the "faucet" field of package.json must be an object' };
  if (value.apiVersion !== 1) {
    return {
      problem: `"faucet.apiVersion" is ${JSON.stringify(value.apiVersion)}; this faucet understands apiVersion 1`,
    };
  }
  const kind = value.kind;
  if (kind !== 'source' && kind !== 'sink' && kind !== 'state') {
    return { problem: `"faucet.kind" must be "source", "sink" or "state", got ${JSON.stringify(kind)}` };
  }
  if (typeof value.id !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/i.test(value.id)) {
    return { problem: `"faucet.id" must be a short name like "rest", got ${JSON.stringify(value.id)}` };
  }
  return { manifest: { apiVersion: 1, kind, id: value.id } };
}

/** Read `<dir>/package.json`; undefined when there is none or it is not JSON. */
export function readPackage(dir: string): PackageInfo | undefined {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(json)) return undefined;
  const info: PackageInfo = {
    name: typeof json.name === 'string' ? json.name : '',
    version: typeof json.version === 'string' ? json.version : '0.0.0',
    dir,
    json,
  };
  if (json.faucet !== undefined) {
    const parsed = parseManifest(json.faucet);
    if ('manifest' in parsed) info.manifest = parsed.manifest;
    else info.manifestProblem = parsed.problem;
  }
  return info;
}

type Exports = string | null | { [key: string]: Exports } | Exports[];

function pickExport(value: Exports | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const picked = pickExport(item);
      if (picked) return picked;
    }
    return undefined;
  }
  if (!isObject(value)) return undefined;
  for (const condition of ['import', 'node', 'default']) {
    const picked = pickExport(value[condition] as Exports | undefined);
    if (picked) return picked;
  }
  return undefined;
}

/**
 * The file `import('<package>')` would load: the `"."` export (conditions import, node, default),
 * else `main`, else `index.js`.
 */
export function packageEntry(info: PackageInfo): string {
  const exportsField = info.json.exports as Exports | undefined;
  let target: string | undefined;
  if (typeof exportsField === 'string' || Array.isArray(exportsField)) target = pickExport(exportsField);
  else if (isObject(exportsField)) {
    const keys = Object.keys(exportsField);
    const dot = keys.some((key) => key.startsWith('.'))
      ? (exportsField['.'] as Exports | undefined)
      : (exportsField as Exports);
    target = pickExport(dot);
  }
  target ??= typeof info.json.main === 'string' ? info.json.main : 'index.js';
  return join(info.dir, target);
}
