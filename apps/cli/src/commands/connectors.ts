/**
 * `faucet connectors`: the sources, sinks and state stores this CLI can use, with versions and where
 * each was found. Read from package.json manifests only — no connector code is imported.
 */
import { dirname } from 'node:path';
import { builtinTransforms, type JsonObject } from '@faucet/core';
import {
  corePackage,
  findConfigFile,
  type InstalledConnector,
  listInstalledConnectors,
  searchLocations,
} from '@faucet/pipeline';
import { cliHost } from '../cli-package.js';
import { type CliIo, ExitCode, writeLine } from '../io.js';

export interface ConnectorsOptions {
  output?: 'text' | 'json';
  /** Also search from this pipeline file's directory. */
  config?: string;
}

export function discoveryLocations(io: CliIo, config: string | undefined) {
  const configDir = config === undefined ? undefined : dirname(findConfigFile(config, io.cwd));
  return searchLocations({
    cwd: io.cwd,
    pluginPath: io.env.FAUCET_PLUGIN_PATH ?? '',
    host: cliHost(),
    ...(configDir ? { configDir } : {}),
  });
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

export function connectorsCommand(options: ConnectorsOptions, io: CliIo): number {
  const locations = discoveryLocations(io, options.config);
  const { connectors, broken } = listInstalledConnectors(locations);
  const kindOrder = { source: 0, sink: 1, state: 2 };
  const sorted = [...connectors].sort(
    (a, b) =>
      kindOrder[a.kind] - kindOrder[b.kind] ||
      a.id.localeCompare(b.id) ||
      Number(a.shadowed) - Number(b.shadowed),
  );
  const transforms = Object.values(builtinTransforms)
    .map((t) => t.id)
    .sort();

  if (options.output === 'json') {
    const json: JsonObject = {
      connectors: sorted.map((c: InstalledConnector) => ({
        kind: c.kind,
        id: c.id,
        package: c.package,
        version: c.version,
        location: c.location,
        dir: c.dir,
        shadowed: c.shadowed,
      })),
      transforms: transforms.map((id) => ({ id, package: '@faucet/core', version: corePackage().version })),
      broken: broken.map((b) => ({ package: b.package, dir: b.dir, problem: b.problem })),
      searched: locations.map((l) => ({ location: l.label, from: l.from, node_modules: l.nodeModules })),
    };
    writeLine(io.stdout, JSON.stringify(json, null, 2));
    return ExitCode.ok;
  }

  const rows = [['KIND', 'ID', 'VERSION', 'PACKAGE', 'FOUND IN']];
  for (const c of sorted) {
    const where = c.location === 'built in' ? 'built in' : `${c.location}: ${c.dir}`;
    rows.push([
      c.kind,
      c.id,
      c.version,
      c.package,
      c.shadowed ? `${where} (shadowed by the one above)` : where,
    ]);
  }
  for (const line of table(rows)) writeLine(io.stdout, line);
  writeLine(io.stdout);
  writeLine(io.stdout, `transforms (built in): ${transforms.join(', ')}`);
  if (broken.length > 0) {
    writeLine(io.stdout);
    writeLine(io.stdout, 'packages with an unusable "faucet" manifest:');
    for (const b of broken) writeLine(io.stdout, `  ${b.package} (${b.dir}): ${b.problem}`);
  }
  writeLine(io.stdout);
  writeLine(io.stdout, 'searched, in order:');
  for (const l of locations) {
    const dirs =
      l.nodeModules.length > 0 ? l.nodeModules.join(', ') : `no node_modules at or above ${l.from}`;
    writeLine(io.stdout, `  ${l.label}: ${dirs}`);
  }
  return ExitCode.ok;
}
