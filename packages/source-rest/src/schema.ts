/** JSON Schema inference from a sample of records: types are unioned per field, objects recurse. */
import type { FaucetRecord, JsonObject, JsonValue } from '@faucet/core';

interface Shape {
  types: Set<string>;
  properties?: Map<string, Shape>;
  items?: Shape;
}

function typeOf(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function observe(shape: Shape, value: JsonValue): void {
  const type = typeOf(value);
  shape.types.add(type);
  if (type === 'object') {
    shape.properties ??= new Map();
    for (const [key, child] of Object.entries(value as JsonObject)) {
      let sub = shape.properties.get(key);
      if (!sub) {
        sub = { types: new Set() };
        shape.properties.set(key, sub);
      }
      observe(sub, child);
    }
  } else if (type === 'array') {
    for (const item of value as JsonValue[]) {
      shape.items ??= { types: new Set() };
      observe(shape.items, item);
    }
  }
}

function toSchema(shape: Shape): JsonObject {
  const types = [...shape.types];
  if (types.includes('integer') && types.includes('number')) types.splice(types.indexOf('integer'), 1);
  const schema: JsonObject = {};
  if (types.length === 1) schema.type = types[0] ?? 'null';
  else if (types.length > 1) schema.type = types.sort();
  if (shape.properties) {
    const properties: JsonObject = {};
    for (const [key, sub] of shape.properties) properties[key] = toSchema(sub);
    schema.properties = properties;
  }
  if (shape.items) schema.items = toSchema(shape.items);
  return schema;
}

export function inferSchema(records: readonly FaucetRecord[]): JsonObject {
  const root: Shape = { types: new Set(['object']), properties: new Map() };
  for (const record of records) observe(root, record);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    ...toSchema(root),
  };
}
