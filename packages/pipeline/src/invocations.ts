/**
 * A loaded pipeline as invocations: what runs, under which state key. A row without a parent is one
 * invocation; a DAG child row is one invocation per record its parent's sink wrote, which only a
 * run knows, so its invocations come from those records (`childInvocations`).
 */
import type { FaucetRecord } from '@faucet/core';
import type { LoadedPipeline, LoadedRow } from './config/load.js';
import type { InvocationTarget } from './runtime/invocation.js';
import { childStateKeys } from './state-keys.js';

/** The rows without a parent, one invocation each, in run order (every row after those it waits for). */
export function rootInvocations(pipeline: LoadedPipeline): InvocationTarget[] {
  return pipeline.order
    .map((id) => pipeline.rowsById.get(id))
    .filter((row): row is LoadedRow => row !== undefined && row.parent === undefined)
    .map((row) => ({ pipeline, row, stateKey: row.stateKey }));
}

export interface ChildInvocations {
  /** One per parent record, in order; empty when there are problems. */
  targets: InvocationTarget[];
  /** Records without a key value, keys with characters a state key cannot hold, duplicate keys. */
  problems: string[];
}

/**
 * The invocations of a DAG child row for these parent records (as its parent's sink wrote them, or
 * only the fields the child reads): `{pipeline}::{row}::{parent key}` each. Nothing runs when a
 * record gives no usable key or two give the same one: every problem is listed.
 */
export function childInvocations(
  pipeline: LoadedPipeline,
  row: LoadedRow,
  parents: readonly FaucetRecord[],
): ChildInvocations {
  const { keys, problems } = childStateKeys(pipeline.name, row.id, row.parentKey, parents);
  if (problems.length > 0) return { targets: [], problems };
  const targets = parents.map((parent, i) => {
    const stateKey = keys[i] as string;
    return { pipeline, row, stateKey, parent, parentKey: stateKey.slice(row.stateKey.length + 2) };
  });
  return { targets, problems };
}
