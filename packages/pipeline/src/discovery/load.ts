/** Importing a resolved connector package and checking that it default-exports the right descriptor. */
import { pathToFileURL } from 'node:url';
import { errorMessage, pluginKind } from '@faucet/core';
import { ConnectorLoadError } from '../errors.js';
import type { AnyDescriptor } from './builtins.js';
import type { ResolvedConnector } from './resolve.js';

const cache = new Map<string, Promise<AnyDescriptor>>();

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  const kind = pluginKind(value);
  if (kind) return `a ${kind} descriptor`;
  return typeof value === 'object' ? 'an object that is not a faucet descriptor' : `a ${typeof value}`;
}

async function importDescriptor(connector: ResolvedConnector): Promise<AnyDescriptor> {
  const entry = connector.entry as string;
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(entry).href)) as { default?: unknown };
  } catch (error) {
    throw new ConnectorLoadError(
      `${connector.kind} "${connector.type}": cannot load ${connector.package} from ${entry}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  let candidate = mod.default;
  // A CommonJS module compiled from ESM puts the descriptor one level down.
  if (!pluginKind(candidate) && pluginKind((candidate as { default?: unknown } | undefined)?.default)) {
    candidate = (candidate as { default?: unknown }).default;
  }
  if (pluginKind(candidate) !== connector.kind) {
    throw new ConnectorLoadError(
      `${connector.kind} "${connector.type}": ${connector.package} (${entry}) must default-export a ` +
        `${connector.kind} descriptor made with define${connector.kind === 'state' ? 'StateStore' : connector.kind === 'source' ? 'Source' : 'Sink'}(), ` +
        `but exports ${describe(candidate)}`,
    );
  }
  return candidate as AnyDescriptor;
}

/** The descriptor of a resolved connector (imported once per process). */
export function loadDescriptor(connector: ResolvedConnector): Promise<AnyDescriptor> {
  if (connector.builtin) return Promise.resolve(connector.builtin.descriptor);
  const key = `${connector.kind}:${connector.entry}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = importDescriptor(connector);
    cache.set(key, pending);
  }
  return pending;
}
