/** Connectors that ship inside @faucet/core: the `memory` and `file` state stores. */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import {
  fileStateStore,
  memoryStateStore,
  type SinkDescriptor,
  type SourceDescriptor,
  type StateStoreDescriptor,
} from '@faucet/core';
import type { ConnectorKind } from './manifest.js';

export type AnyDescriptor =
  | SourceDescriptor<unknown>
  | SinkDescriptor<unknown>
  | StateStoreDescriptor<unknown>;

export interface BuiltinConnector {
  kind: ConnectorKind;
  id: string;
  descriptor: AnyDescriptor;
}

export const BUILTIN_CONNECTORS: readonly BuiltinConnector[] = [
  { kind: 'state', id: 'memory', descriptor: memoryStateStore as StateStoreDescriptor<unknown> },
  { kind: 'state', id: 'file', descriptor: fileStateStore as StateStoreDescriptor<unknown> },
];

export function builtinConnector(kind: ConnectorKind, type: string): BuiltinConnector | undefined {
  return BUILTIN_CONNECTORS.find((c) => c.kind === kind && c.id === type);
}

let core: { version: string; dir: string } | undefined;

/** Version and directory of the @faucet/core this package runs with. */
export function corePackage(): { version: string; dir: string } {
  if (core) return core;
  const require = createRequire(import.meta.url);
  try {
    const manifest = require.resolve('@faucet/core/package.json');
    const json = require(manifest) as { version?: string };
    core = { version: json.version ?? '0.0.0', dir: dirname(manifest) };
  } catch {
    core = { version: '0.0.0', dir: '' };
  }
  return core;
}
