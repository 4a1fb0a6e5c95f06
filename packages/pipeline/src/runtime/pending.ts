/**
 * Pending parent records of a DAG child row. A parent checkpoints its own pages, so a record it wrote
 * in a run whose children did not all finish (the child failed, was cancelled or skipped, or the
 * process died) would never be written again — and its child would never run. So the parent
 * records a child row still owes an invocation are kept in the child's state store, under
 * `{pipeline}:::pending:{row}` (a key no row or child key can take: row ids cannot contain `:`),
 * and the next run runs the child for them as well as for the new ones. A child is incremental, so
 * running it again for a parent it had finished costs a resume that finds nothing new.
 */
import type { FaucetRecord, JsonValue, StateStore } from '@faucet/core';
import { parentKeyValue } from '../state-keys.js';

export function pendingKey(pipeline: string, row: string): string {
  return `${pipeline}:::pending:${row}`;
}

export interface PendingParents {
  load(): Promise<FaucetRecord[]>;
  /** Replace the list (an empty list deletes the key). */
  save(parents: readonly FaucetRecord[]): Promise<void>;
}

function isRecord(value: unknown): value is FaucetRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function pendingParents(store: StateStore, key: string, writable: boolean): PendingParents {
  let stored = false;
  return {
    async load() {
      const value = await store.get(key);
      stored = value !== undefined;
      const parents = isRecord(value) ? value.parents : undefined;
      return Array.isArray(parents) ? parents.filter(isRecord) : [];
    },
    async save(parents) {
      if (!writable) return;
      if (parents.length === 0) {
        if (stored) await store.delete(key);
        stored = false;
        return;
      }
      await store.put(key, {
        v: 1,
        kind: 'faucet.pending_parents',
        updated_at: new Date().toISOString(),
        parents: parents as JsonValue[],
      });
      stored = true;
    },
  };
}

/**
 * Earlier pending parents followed by the parents captured now, one per child key (a parent
 * captured now replaces a pending one with the same key). Records without a key value are kept:
 * the key check reports them.
 */
export function mergeParents(
  earlier: readonly FaucetRecord[],
  captured: readonly FaucetRecord[],
  parentKey: string,
): FaucetRecord[] {
  if (earlier.length === 0) return [...captured];
  const byKey = new Map<string, FaucetRecord>();
  const keyless: FaucetRecord[] = [];
  for (const record of [...earlier, ...captured]) {
    const key = parentKeyValue(record, parentKey);
    if (key === undefined) keyless.push(record);
    else {
      byKey.delete(key);
      byKey.set(key, record);
    }
  }
  // Captured parents keep their order after the earlier ones; a duplicate within `captured` is
  // still reported by the key check, so put it back.
  const merged = [...byKey.values(), ...keyless];
  const seen = new Set<string>();
  for (const record of captured) {
    const key = parentKeyValue(record, parentKey);
    if (key === undefined) continue;
    if (seen.has(key)) merged.push(record);
    seen.add(key);
  }
  return merged;
}
