/** `flatten`: nested objects become top-level keys joined with a separator. */
import { z } from 'zod';
import { defineTransform } from '../define.js';
import { TransformError } from '../errors.js';
import type { JsonObject, JsonValue } from '../types.js';
import { assertRecord, hasOwn, isJsonObject, quote, setOwn } from './common.js';

export const flattenConfigSchema = z.strictObject({
  separator: z.string().min(1).default('__'),
  max_depth: z.int().min(1).optional(),
});
export type FlattenConfig = z.infer<typeof flattenConfigSchema>;

export const flattenTransform = defineTransform<FlattenConfig>({
  id: 'flatten',
  description: 'Flatten nested objects into top-level keys joined with a separator (arrays stay as they are)',
  configSchema: flattenConfigSchema,
  create(config) {
    const { separator } = config;
    const maxDepth = config.max_depth ?? Number.POSITIVE_INFINITY;

    const flattenInto = (out: JsonObject, source: JsonObject, prefix: string, depth: number): void => {
      for (const key of Object.keys(source)) {
        const value = source[key] as JsonValue;
        const name = depth === 0 ? key : prefix + separator + key;
        // An empty nested object has no leaves, so it leaves no key behind.
        if (depth < maxDepth && isJsonObject(value)) {
          flattenInto(out, value, name, depth + 1);
          continue;
        }
        if (hasOwn(out, name)) {
          throw new TransformError(
            `flatten: key ${quote(name)} is produced twice (two different paths give the same name when ` +
              `joined with ${quote(separator)}); rename one of them first or choose another separator`,
          );
        }
        setOwn(out, name, value);
      }
    };

    return (record) => {
      assertRecord('flatten', record);
      const out: JsonObject = {};
      flattenInto(out, record, '', 0);
      return out;
    };
  },
});
