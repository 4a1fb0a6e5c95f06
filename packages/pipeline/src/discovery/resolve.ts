/**
 * Resolving a pipeline file's `type` to a connector package, without importing it. Locations are
 * searched in order (config directory, working directory, FAUCET_PLUGIN_PATH, the host program's own
 * dependencies); within a location the candidate names are tried most specific first. When nothing
 * fits, the error lists every place tried and the nearest installed ids.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConnectorNotFoundError } from '../errors.js';
import { nearest } from '../levenshtein.js';
import { type BuiltinConnector, builtinConnector, corePackage } from './builtins.js';
import { listInstalledConnectors, scanConnectorPackages } from './list.js';
import type { SearchLocation } from './locations.js';
import { type ConnectorKind, type PackageInfo, packageEntry, readPackage } from './manifest.js';
import { candidatePackageNames, isPathType } from './names.js';

export interface ResolvedConnector {
  kind: ConnectorKind;
  /** The `type` as written. */
  type: string;
  /** The connector id (its manifest id, or the built-in id). */
  id: string;
  package: string;
  version: string;
  /** The package directory (or the module file for a path to a file); `built in` for built-ins. */
  dir: string;
  /** The module to import; undefined for built-ins. */
  entry?: string;
  location: string;
  builtin?: BuiltinConnector;
}

export interface ResolveOptions {
  locations: readonly SearchLocation[];
  /** Directory relative paths in `type` are resolved against (the pipeline file's). */
  baseDir: string;
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function fromPackage(
  kind: ConnectorKind,
  type: string,
  info: PackageInfo,
  location: string,
): ResolvedConnector {
  return {
    kind,
    type,
    id: info.manifest?.id ?? type,
    package: info.name,
    version: info.version,
    dir: info.dir,
    entry: packageEntry(info),
    location,
  };
}

function resolvePath(kind: ConnectorKind, type: string, baseDir: string): ResolvedConnector {
  const target = isAbsolute(type) ? type : resolve(baseDir, type);
  if (!existsSync(target)) {
    throw new ConnectorNotFoundError(
      `${kind} "${type}": ${target} does not exist (a path in "type" is relative to the pipeline file)`,
      [target],
      [],
    );
  }
  if (statSync(target).isDirectory()) {
    const info = readPackage(real(target));
    if (!info) {
      throw new ConnectorNotFoundError(
        `${kind} "${type}": ${target} has no package.json; point "type" at a connector package or a module file`,
        [target],
        [],
      );
    }
    if (info.manifest && info.manifest.kind !== kind) {
      throw new ConnectorNotFoundError(
        `${kind} "${type}": package ${info.name} at ${info.dir} is a faucet ${info.manifest.kind}, not a ${kind}`,
        [target],
        [],
      );
    }
    return fromPackage(kind, type, info, 'path');
  }
  const file = real(target);
  return { kind, type, id: type, package: file, version: '0.0.0', dir: file, entry: file, location: 'path' };
}

/** Why a package with one of the candidate names was passed over, or undefined when it fits. */
function unfit(kind: ConnectorKind, info: PackageInfo): string | undefined {
  if (info.manifestProblem) return info.manifestProblem;
  if (!info.manifest) return 'not a faucet connector (no "faucet" field in package.json)';
  if (info.manifest.kind !== kind) return `a faucet ${info.manifest.kind}, not a ${kind}`;
  return undefined;
}

/** Find the package for `type`. Throws ConnectorNotFoundError naming every place tried. */
export function resolveConnector(
  kind: ConnectorKind,
  type: string,
  options: ResolveOptions,
): ResolvedConnector {
  const builtin = builtinConnector(kind, type);
  if (builtin) {
    return {
      kind,
      type,
      id: builtin.id,
      package: '@faucet/core',
      version: corePackage().version,
      dir: 'built in',
      location: 'built in',
      builtin,
    };
  }
  if (isPathType(type)) return resolvePath(kind, type, options.baseDir);

  const names = candidatePackageNames(kind, type);
  const tried: string[] = [];
  const passedOver: string[] = [];
  for (const location of options.locations) {
    if (location.nodeModules.length === 0) {
      tried.push(`${location.label}: no node_modules directory at or above ${location.from}`);
      continue;
    }
    for (const nodeModules of location.nodeModules) {
      for (const name of names) {
        const dir = join(nodeModules, name);
        if (!existsSync(join(dir, 'package.json'))) continue;
        const info = readPackage(real(dir));
        if (!info) continue;
        const problem = unfit(kind, info);
        if (problem) {
          passedOver.push(`${name} at ${info.dir}: ${problem}`);
          continue;
        }
        return fromPackage(kind, type, info, location.label);
      }
      tried.push(`${location.label}: ${nodeModules}`);
    }
  }

  // A package named otherwise whose manifest declares this id (e.g. `type: zendesk` for
  // `@acme/faucet-zendesk-connector` with `"faucet": {"kind": "source", "id": "zendesk"}`).
  for (const { info, location } of scanConnectorPackages(options.locations)) {
    if (info.manifest?.kind === kind && info.manifest.id === type)
      return fromPackage(kind, type, info, location);
  }

  const installed = listInstalledConnectors(options.locations).connectors.filter((c) => c.kind === kind);
  const suggestions = nearest(
    type,
    installed.map((c) => c.id),
  );
  const lines = [
    `${kind} "${type}" is not installed; looked for ${names.join(', ')} in:`,
    ...tried.map((place) => `  - ${place}`),
  ];
  if (passedOver.length > 0) lines.push('passed over:', ...passedOver.map((line) => `  - ${line}`));
  if (suggestions.length > 0) lines.push(`did you mean ${suggestions.map((s) => `"${s}"`).join(' or ')}?`);
  const available = [...new Set(installed.map((c) => c.id))].sort();
  lines.push(
    available.length > 0
      ? `installed ${kind}s: ${available.join(', ')}`
      : `no ${kind} connectors are installed`,
  );
  lines.push(
    `install one with: npm i ${names[0] ?? type}  (or set FAUCET_PLUGIN_PATH to where it is installed)`,
  );
  throw new ConnectorNotFoundError(lines.join('\n'), tried, suggestions);
}
