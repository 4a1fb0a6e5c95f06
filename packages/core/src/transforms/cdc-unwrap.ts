/**
 * `cdc_unwrap`: turn a change event (`{op, before, after, key, …}` from a CDC source) into the row
 * itself, so CDC can feed an upsert sink. Inserts, updates and snapshot reads become their after
 * image; a delete becomes its before image (or its key, when the table does not log full rows)
 * with `__op: "delete"`, which an upsert sink's delete marker turns into a delete by key.
 */
import { z } from 'zod';
import { defineTransform } from '../define.js';
import { TransformError } from '../errors.js';
import type { FaucetRecord, JsonObject, JsonValue, Transform } from '../types.js';
import { assertRecord } from './common.js';

export const cdcUnwrapConfigSchema = z.strictObject({
  op_field: z.string().min(1).default('__op').describe('field set to "delete" on a deleted row'),
  op_on_every_row: z
    .boolean()
    .default(false)
    .describe('also set op_field on inserts, updates and reads (insert | update | read)'),
  on_truncate: z
    .enum(['fail', 'drop'])
    .default('fail')
    .describe('a TRUNCATE has no row to upsert: fail the run (default) or drop the event'),
});
export type CdcUnwrapConfig = z.infer<typeof cdcUnwrapConfigSchema>;

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const cdcUnwrapTransform = defineTransform<CdcUnwrapConfig>({
  id: 'cdc_unwrap',
  description: 'Change events -> rows: after image, or before image with __op: delete for deletes',
  configSchema: cdcUnwrapConfigSchema,
  create(config): Transform {
    const { op_field: opField, op_on_every_row: everyRow, on_truncate: onTruncate } = config;
    return (record: FaucetRecord) => {
      assertRecord('cdc_unwrap', record);
      const op = record.op;
      const where = () =>
        `${typeof record.schema === 'string' ? `${record.schema}.` : ''}${String(record.table ?? '?')}` +
        (typeof record.lsn === 'string' ? ` at ${record.lsn}` : '');
      switch (op) {
        case 'insert':
        case 'update':
        case 'read': {
          if (!isObject(record.after)) {
            throw new TransformError(`cdc_unwrap: the ${op} event for ${where()} has no "after" object`);
          }
          return everyRow ? { ...record.after, [opField]: op } : record.after;
        }
        case 'delete': {
          const image = isObject(record.before)
            ? record.before
            : isObject(record.key)
              ? record.key
              : undefined;
          if (!image) {
            throw new TransformError(
              `cdc_unwrap: the delete event for ${where()} has neither "before" nor "key"; ` +
                'give the table a primary key or REPLICA IDENTITY FULL',
            );
          }
          return { ...image, [opField]: 'delete' };
        }
        case 'truncate':
          if (onTruncate === 'drop') return null;
          throw new TransformError(
            `cdc_unwrap: ${where()} was truncated; an upsert target cannot express that. ` +
              'Truncate the target yourself and set on_truncate: drop to let the run go on',
          );
        default:
          throw new TransformError(
            `cdc_unwrap: expected a change event with op insert | update | delete | truncate | read, got ${JSON.stringify(op ?? null)}`,
          );
      }
    };
  },
});
