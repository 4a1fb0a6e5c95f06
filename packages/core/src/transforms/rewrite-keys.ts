/**
 * The walk shared by `rename_keys` and `keys_case`: apply a key conversion to every key of a record,
 * optionally to every object nested in it (objects inside arrays included), and refuse to merge two
 * keys into one, since silently keeping either value would lose data.
 */
import { TransformError } from '../errors.js';
import type { JsonObject, JsonValue, Transform } from '../types.js';
import { assertRecord, formatRecordPath, hasOwn, quote, setOwn } from './common.js';

export function keyRewriter(
  transformId: string,
  convert: (key: string) => string,
  recursive: boolean,
): Transform {
  // Where the walk is, kept only to name the place of a collision. One array per transform is safe
  // because a transform runs synchronously and never re-enters itself.
  const path: (string | number)[] = [];

  const collision = (source: JsonObject, key: string, target: string): TransformError => {
    let first = target;
    for (const other of Object.keys(source)) {
      if (other !== key && convert(other) === target) {
        first = other;
        break;
      }
    }
    const where = path.length > 0 ? ` in ${formatRecordPath(path)}` : '';
    return new TransformError(
      `${transformId}: keys ${quote(first)} and ${quote(key)} both become ${quote(target)}${where}; ` +
        'rename one of them first (e.g. with a more specific pattern)',
    );
  };

  const rewriteValue = (value: JsonValue): JsonValue => {
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) {
      const out = new Array<JsonValue>(value.length);
      for (let i = 0; i < value.length; i++) {
        const item = value[i] as JsonValue;
        if (typeof item === 'object' && item !== null) {
          path.push(i);
          out[i] = rewriteValue(item);
          path.pop();
        } else {
          out[i] = item;
        }
      }
      return out;
    }
    return rewriteObject(value);
  };

  const rewriteObject = (source: JsonObject): JsonObject => {
    const out: JsonObject = {};
    for (const key of Object.keys(source)) {
      const target = convert(key);
      if (hasOwn(out, target)) throw collision(source, key, target);
      let value = source[key] as JsonValue;
      if (recursive && typeof value === 'object' && value !== null) {
        path.push(key);
        value = rewriteValue(value);
        path.pop();
      }
      setOwn(out, target, value);
    }
    return out;
  };

  return (record) => {
    assertRecord(transformId, record);
    path.length = 0;
    return rewriteObject(record);
  };
}
