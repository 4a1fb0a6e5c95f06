/**
 * What state stores share: how a value becomes JSON text, and lock TTL checks. Exported for
 * third-party and first-party backends (redis, postgres) so they behave like the built-in ones.
 */
import { ConfigError, errorMessage, StateError } from '../errors.js';
import type { JsonValue } from '../types.js';

/**
 * JSON text of a value, taken at call time so a caller mutating the value afterwards cannot change
 * what is stored. Fails on what JSON cannot hold (a cycle, a BigInt, undefined) instead of storing
 * something else than was asked.
 */
export function encodeStateValue(
  key: string,
  value: JsonValue,
  options: { indent?: number; connector?: string } = {},
): string {
  const owner = options.connector === undefined ? {} : { connector: options.connector };
  let text: string | undefined;
  try {
    text = JSON.stringify(value, null, options.indent);
  } catch (error) {
    throw new StateError(
      `the value for state key "${key}" cannot be stored as JSON: ${errorMessage(error)}`,
      {
        cause: error,
        ...owner,
      },
    );
  }
  if (text === undefined) {
    throw new StateError(
      `the value for state key "${key}" cannot be stored as JSON: got ${typeof value}`,
      owner,
    );
  }
  return text;
}

/** A lock TTL comes from configuration (`lockTtlMs`); nonsense there would disable stale detection. */
export function assertLockTtl(ttlMs: number): void {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new ConfigError(`a state lock TTL must be a positive number of milliseconds, got ${String(ttlMs)}`);
  }
}
