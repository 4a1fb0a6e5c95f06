/** Runtime discovery of connector packages: locations, resolution, listing and loading. */
import type { AnyDescriptor } from './builtins.js';
import { loadDescriptor } from './load.js';
import { type LocationOptions, type SearchLocation, searchLocations } from './locations.js';
import type { ConnectorKind } from './manifest.js';
import { type ResolvedConnector, resolveConnector } from './resolve.js';

export { type AnyDescriptor, BUILTIN_CONNECTORS, corePackage } from './builtins.js';
export { type InstalledConnector, listInstalledConnectors } from './list.js';
export { loadDescriptor } from './load.js';
export {
  defaultHost,
  type LocationOptions,
  type PipelineHost,
  pipelinePackageDir,
  type SearchLocation,
  searchLocations,
} from './locations.js';
export { type ConnectorKind, type PackageInfo, packageEntry, readPackage } from './manifest.js';
export type { ResolvedConnector } from './resolve.js';

export interface Discovery {
  locations: readonly SearchLocation[];
  resolve(kind: ConnectorKind, type: string): ResolvedConnector;
  load(
    kind: ConnectorKind,
    type: string,
  ): Promise<{ resolved: ResolvedConnector; descriptor: AnyDescriptor }>;
}

/** Discovery for one pipeline file (`configDir`) from the working directory and FAUCET_PLUGIN_PATH. */
export function createDiscovery(options: LocationOptions & { baseDir?: string } = {}): Discovery {
  const locations = searchLocations(options);
  const baseDir = options.baseDir ?? options.configDir ?? options.cwd ?? process.cwd();
  const resolved = new Map<string, ResolvedConnector>();
  const resolve = (kind: ConnectorKind, type: string): ResolvedConnector => {
    const key = `${kind}\u0000${type}`;
    let hit = resolved.get(key);
    if (!hit) {
      hit = resolveConnector(kind, type, { locations, baseDir });
      resolved.set(key, hit);
    }
    return hit;
  };
  return {
    locations,
    resolve,
    async load(kind, type) {
      const connector = resolve(kind, type);
      return { resolved: connector, descriptor: await loadDescriptor(connector) };
    },
  };
}
