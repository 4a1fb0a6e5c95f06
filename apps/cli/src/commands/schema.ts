/**
 * `faucet schema`: print the JSON Schema of pipeline files for the connectors installed here. This
 * one imports each connector (to read its config schema); a connector that fails to load is left
 * out with a warning on stderr.
 */
import { builtinTransforms, configJsonSchema, errorMessage } from '@faucet/core';
import {
  BUILTIN_CONNECTORS,
  buildPipelineJsonSchema,
  listInstalledConnectors,
  loadDescriptor,
  packageEntry,
  readPackage,
  type SchemaPlugin,
} from '@faucet/pipeline';
import { type CliIo, ExitCode, writeLine } from '../io.js';
import { discoveryLocations } from './connectors.js';

export async function collectSchemaPlugins(
  io: CliIo,
  config: string | undefined,
): Promise<{ plugins: SchemaPlugin[]; warnings: string[] }> {
  const plugins: SchemaPlugin[] = [];
  const warnings: string[] = [];
  const add = (
    kind: SchemaPlugin['kind'],
    descriptor: Parameters<typeof configJsonSchema>[0] & { id: string; description?: string },
  ) => {
    const plugin: SchemaPlugin = { kind, id: descriptor.id, schema: configJsonSchema(descriptor) };
    if (descriptor.description) plugin.description = descriptor.description;
    plugins.push(plugin);
  };
  for (const builtin of BUILTIN_CONNECTORS) add(builtin.kind, builtin.descriptor);
  for (const transform of Object.values(builtinTransforms)) add('transform', transform);

  const { connectors } = listInstalledConnectors(discoveryLocations(io, config));
  for (const c of connectors) {
    if (c.shadowed || c.location === 'built in') continue;
    const info = readPackage(c.dir);
    if (!info) continue;
    try {
      const descriptor = await loadDescriptor({
        kind: c.kind,
        type: c.id,
        id: c.id,
        package: c.package,
        version: c.version,
        dir: c.dir,
        entry: packageEntry(info),
        location: c.location,
      });
      add(c.kind, descriptor);
    } catch (error) {
      warnings.push(`left out ${c.kind} "${c.id}" (${c.package}): ${errorMessage(error)}`);
    }
  }
  return { plugins, warnings };
}

export async function schemaCommand(options: { config?: string }, io: CliIo): Promise<number> {
  const { plugins, warnings } = await collectSchemaPlugins(io, options.config);
  for (const warning of warnings) writeLine(io.stderr, `faucet: warning: ${warning}`);
  writeLine(io.stdout, JSON.stringify(buildPipelineJsonSchema(plugins), null, 2));
  return ExitCode.ok;
}
