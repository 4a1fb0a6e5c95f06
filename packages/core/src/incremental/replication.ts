/**
 * Replication config shared by every incremental source: `replication_method`, `primary_keys`,
 * `checkpoint_interval`, and which start point wins on a resumed run.
 */
import { z } from 'zod';
import type { JsonValue } from '../types.js';

/** A field name, or a dotted path into nested objects (`meta.updated_at`). */
export const cursorFieldSchema = z
  .string()
  .min(1)
  .regex(/^[^.]+(?:\.[^.]+)*$/, 'a cursor field is a field name or a dotted path such as "meta.updated_at"');

export const fullTableReplicationSchema = z.strictObject({ type: z.literal('FullTable') });

export const incrementalReplicationSchema = z.strictObject({
  type: z.literal('Incremental'),
  cursor_field: cursorFieldSchema.describe('Field whose value only grows: updated_at, an auto-increment id'),
  start_value: z
    .union([z.string().min(1), z.number()])
    .optional()
    .describe('Read records after this value on a first run; a stored bookmark wins over it'),
});

/** `{ type: FullTable }` (the default) or `{ type: Incremental, cursor_field, start_value? }`. */
export const replicationMethodSchema = z
  .discriminatedUnion('type', [fullTableReplicationSchema, incrementalReplicationSchema])
  .default(() => ({ type: 'FullTable' as const }));

export type ReplicationMethod = z.output<typeof replicationMethodSchema>;
export type IncrementalReplication = z.output<typeof incrementalReplicationSchema>;

/** Singer `key_properties`: the fields that identify a record. Metadata for sinks that upsert. */
export const primaryKeysSchema = z
  .array(z.string().min(1))
  .refine((keys) => new Set(keys).size === keys.length, 'primary keys must not repeat');

/** Records between checkpoints of an ordered source; unset means a checkpoint on every page. */
export const checkpointIntervalSchema = z.number().int().min(1);

/**
 * Where an incremental read starts: the stored bookmark when there is one (a resumed run must never
 * go back to `start_value`), else the configured start value. A stored `null` counts as none.
 */
export function resolveStartBookmark(
  stored: JsonValue | undefined,
  startValue: JsonValue | undefined,
): JsonValue | undefined {
  return stored === undefined || stored === null ? startValue : stored;
}
