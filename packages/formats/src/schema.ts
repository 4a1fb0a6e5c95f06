/** A JSON Schema guessed from sample records: each field's types as seen, `required` for fields in all. */
import type { FaucetRecord, JsonObject, JsonValue } from '@faucet/core';

type JsonType = 'string' | 'integer' | 'number' | 'boolean' | 'null' | 'array' | 'object';

function typeOf(value: JsonValue): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as 'string' | 'boolean' | 'object';
}

export function inferSchema(records: readonly FaucetRecord[]): JsonObject {
  const types = new Map<string, Set<JsonType>>();
  const counts = new Map<string, number>();
  for (const record of records) {
    for (const [key, value] of Object.entries(record)) {
      let set = types.get(key);
      if (!set) {
        set = new Set();
        types.set(key, set);
      }
      set.add(typeOf(value));
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const properties: JsonObject = {};
  for (const [key, set] of types) {
    // An integer column with a fractional value somewhere is a number column.
    if (set.has('number')) set.delete('integer');
    const list = [...set];
    properties[key] = { type: list.length === 1 ? (list[0] as string) : list };
  }
  const required = [...counts].filter(([, n]) => n === records.length).map(([key]) => key);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties,
    ...(records.length > 0 && required.length > 0 ? { required } : {}),
  };
}
