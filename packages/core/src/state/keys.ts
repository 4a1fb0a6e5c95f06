import { ErrorCodes, StateError } from '../errors.js';
import type { JsonObject, JsonValue } from '../types.js';

const KEY_PATTERN = /^[A-Za-z0-9_.:-]+$/;
export const MAX_STATE_KEY_LENGTH = 256;

/** Why a state key is unusable, or undefined when it is fine. */
export function stateKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'a state key must be a non-empty string';
  if (key.length > MAX_STATE_KEY_LENGTH) {
    return `state key is ${key.length} characters long; at most ${MAX_STATE_KEY_LENGTH} are allowed`;
  }
  if (key.startsWith('.')) return `state key "${key}" must not start with a dot`;
  if (!KEY_PATTERN.test(key)) {
    const bad = [...key].find((c) => !/[A-Za-z0-9_.:-]/.test(c));
    return `state key "${key}" contains ${JSON.stringify(bad)}; only letters, digits and _ . : - are allowed`;
  }
  return undefined;
}

export function assertStateKey(key: string): void {
  const problem = stateKeyProblem(key);
  if (problem) throw new StateError(problem, { code: ErrorCodes.STATE_KEY_INVALID });
}

/** `{pipeline}::{row}` and `{pipeline}::{row}::{parentKey}` (ARCHITECTURE §5). */
export function pipelineStateKey(pipeline: string, row: string, parentKey?: string): string {
  return parentKey === undefined ? `${pipeline}::${row}` : `${pipeline}::${row}::${parentKey}`;
}

/** What the engine stores under a key: small, inspectable, migratable. */
export interface StateEnvelope {
  v: 1;
  bookmark: JsonValue;
  source: { type: string; version: string };
  run_id: string;
  updated_at: string;
  /** Effectively-once sequence of the last committed checkpoint. */
  seq?: number;
}

export function isStateEnvelope(value: unknown): value is StateEnvelope {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    (value as { v?: unknown }).v === 1 &&
    'bookmark' in value &&
    typeof (value as { run_id?: unknown }).run_id === 'string'
  );
}

/** Read a stored value; a bare value written by another tool is taken as the bookmark itself. */
export function unwrapState(value: JsonValue | undefined): { bookmark: JsonValue | undefined; seq: number } {
  if (value === undefined) return { bookmark: undefined, seq: 0 };
  if (isStateEnvelope(value)) return { bookmark: value.bookmark, seq: value.seq ?? 0 };
  return { bookmark: value, seq: 0 };
}

export function wrapState(
  fields: Omit<StateEnvelope, 'v' | 'updated_at'> & { updated_at?: string },
): JsonObject {
  const envelope: JsonObject = {
    v: 1,
    bookmark: fields.bookmark,
    source: fields.source,
    run_id: fields.run_id,
    updated_at: fields.updated_at ?? new Date().toISOString(),
  };
  if (fields.seq !== undefined) envelope.seq = fields.seq;
  return envelope;
}

/**
 * Of the held (locked) keys, the one that covers `key`: `key` itself, else the longest that `key`
 * lies under (`{key}::{partition}` is stored under the lock of `{key}`). For stores that guard their
 * writes with the lock a run holds.
 */
export function coveringKey(held: Iterable<string>, key: string): string | undefined {
  let best: string | undefined;
  for (const locked of held) {
    if (locked === key) return locked;
    if (key.startsWith(`${locked}::`) && (best === undefined || locked.length > best.length)) best = locked;
  }
  return best;
}
