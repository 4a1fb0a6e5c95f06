/**
 * How a `type` in a pipeline file becomes npm package names (ARCHITECTURE §7): short names resolve by
 * kind — source `rest` → `@faucet/source-rest`, then `faucet-source-rest`; `@acme/x` →
 * `@acme/faucet-source-x`; a full package name or a path is used as is.
 */
import type { ConnectorKind } from './manifest.js';

/** A path to a package directory or a module file, rather than a package name. */
export function isPathType(type: string): boolean {
  if (type.startsWith('.') || type.startsWith('/') || type.startsWith('~')) return true;
  if (/^[A-Za-z]:[\\/]/.test(type)) return true;
  if (/\.(?:m?js|cjs)$/.test(type)) return true;
  return type.includes('/') && !type.startsWith('@');
}

const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

/** Whether `type` can be an npm package name at all. */
export function isPackageNameLike(type: string): boolean {
  return PACKAGE_NAME.test(type);
}

/** Package names to look for, most specific first. */
export function candidatePackageNames(kind: ConnectorKind, type: string): string[] {
  const names: string[] = [];
  const add = (name: string) => {
    if (!names.includes(name) && isPackageNameLike(name)) names.push(name);
  };
  if (type.startsWith('@')) {
    const slash = type.indexOf('/');
    const scope = type.slice(0, slash);
    const name = type.slice(slash + 1);
    if (scope === '@faucet') {
      if (!name.startsWith(`${kind}-`)) add(`@faucet/${kind}-${name}`);
      add(type);
    } else if (name.startsWith('faucet-')) {
      add(type);
    } else {
      add(`${scope}/faucet-${kind}-${name}`);
      add(type);
    }
    return names;
  }
  if (type.startsWith('faucet-')) {
    add(type);
    return names;
  }
  add(`@faucet/${kind}-${type}`);
  add(`faucet-${kind}-${type}`);
  add(type);
  return names;
}
