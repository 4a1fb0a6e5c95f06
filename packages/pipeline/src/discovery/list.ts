/**
 * Listing installed connector packages: every package with a `"faucet"` manifest in the search
 * locations, found by reading package.json files only (no connector code is imported).
 */
import { readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_CONNECTORS, corePackage } from './builtins.js';
import type { SearchLocation } from './locations.js';
import { type ConnectorKind, type PackageInfo, readPackage } from './manifest.js';

export interface InstalledConnector {
  kind: ConnectorKind;
  id: string;
  package: string;
  version: string;
  /** The package directory, or `built in`. */
  dir: string;
  /** Which search location found it. */
  location: string;
  /** True when a package found earlier has the same kind and id (this one is not used). */
  shadowed: boolean;
}

export interface BrokenPackage {
  package: string;
  dir: string;
  problem: string;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Every package directory directly inside a node_modules directory (scoped ones included). */
export function packagesIn(nodeModules: string): string[] {
  const out: string[] = [];
  for (const entry of safeReaddir(nodeModules)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      for (const inner of safeReaddir(join(nodeModules, entry))) {
        if (!inner.startsWith('.')) out.push(join(nodeModules, entry, inner));
      }
    } else {
      out.push(join(nodeModules, entry));
    }
  }
  return out;
}

/** Packages with a faucet manifest in the given locations, in search order. */
export function scanConnectorPackages(
  locations: readonly SearchLocation[],
): Array<{ info: PackageInfo; location: string }> {
  const out: Array<{ info: PackageInfo; location: string }> = [];
  const seen = new Set<string>();
  for (const location of locations) {
    for (const nodeModules of location.nodeModules) {
      for (const dir of packagesIn(nodeModules)) {
        const realDir = real(dir);
        if (seen.has(realDir)) continue;
        seen.add(realDir);
        const info = readPackage(realDir);
        if (info && info.json.faucet !== undefined) out.push({ info, location: location.label });
      }
    }
  }
  return out;
}

/** Built-in and installed connectors, plus packages whose manifest is broken. */
export function listInstalledConnectors(locations: readonly SearchLocation[]): {
  connectors: InstalledConnector[];
  broken: BrokenPackage[];
} {
  const core = corePackage();
  const connectors: InstalledConnector[] = BUILTIN_CONNECTORS.map((builtin) => ({
    kind: builtin.kind,
    id: builtin.id,
    package: '@faucet/core',
    version: core.version,
    dir: 'built in',
    location: 'built in',
    shadowed: false,
  }));
  const broken: BrokenPackage[] = [];
  for (const { info, location } of scanConnectorPackages(locations)) {
    if (!info.manifest) {
      broken.push({ package: info.name, dir: info.dir, problem: info.manifestProblem ?? 'invalid manifest' });
      continue;
    }
    const { kind, id } = info.manifest;
    const shadowed = connectors.some((c) => c.kind === kind && c.id === id);
    connectors.push({
      kind,
      id,
      package: info.name,
      version: info.version,
      dir: info.dir,
      location,
      shadowed,
    });
  }
  return { connectors, broken };
}
