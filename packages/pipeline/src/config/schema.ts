/**
 * The structure of a pipeline file (ARCHITECTURE §7), checked with zod. Unknown keys in these
 * structural blocks are errors; each connector's `config` is checked later against that
 * connector's own schema.
 */
import { z } from 'zod';

export const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const nameMessage = 'use letters, digits, "_", "-" and "." only (it becomes part of state keys)';

const config = z.record(z.string(), z.unknown());

export const connectorBlockSchema = z.strictObject({
  type: z.string().min(1),
  config: config.nullish(),
});

const partialConnectorBlockSchema = z.strictObject({
  type: z.string().min(1).optional(),
  config: config.nullish(),
});

export const transformSpecSchema = z.strictObject({
  type: z.string().min(1),
  config: config.nullish(),
});

const dlqFields = {
  on_batch_error: z.enum(['propagate', 'dlq_all']).optional(),
  max_failures_per_page: z.number().int().min(0).optional(),
  max_failures_total: z.number().int().min(0).optional(),
};

export const dlqSchema = z.strictObject({ sink: connectorBlockSchema, ...dlqFields });
const partialDlqSchema = z.strictObject({ sink: partialConnectorBlockSchema.optional(), ...dlqFields });

const batchSize = z.number().int().min(1).max(1_000_000);
const delivery = z.enum(['at_least_once', 'effectively_once']);
const onRecordError = z.enum(['fail', 'dlq']);
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
/** `500ms`, `30s`, `5m`, `1h`, or a number of seconds. */
const duration = z.union([
  z.string().regex(DURATION, 'expected a duration such as 500ms, 30s, 5m, 1h, or a number of seconds'),
  z.number().min(0),
]);

/** A `duration` in milliseconds. */
export function durationMs(value: string | number): number {
  if (typeof value === 'number') return Math.round(value * 1000);
  const match = DURATION.exec(value) as RegExpExecArray;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

export const pipelineBlockSchema = z.strictObject({
  source: connectorBlockSchema.optional(),
  transforms: z.array(transformSpecSchema).optional(),
  sink: connectorBlockSchema.optional(),
  state: connectorBlockSchema.optional(),
  dlq: dlqSchema.nullable().optional(),
  batch_size: batchSize.optional(),
  delivery: delivery.optional(),
  checkpoint_every: duration.optional(),
  on_record_error: onRecordError.optional(),
});

const rowId = z.string().regex(NAME_PATTERN, nameMessage);

export const matrixRowSchema = z.strictObject({
  id: rowId.optional(),
  parent: z.string().min(1).optional(),
  parent_key: z.string().min(1).optional(),
  depends_on: z.array(z.string().min(1)).optional(),
  source: partialConnectorBlockSchema.optional(),
  transforms: z.array(transformSpecSchema).optional(),
  sink: partialConnectorBlockSchema.optional(),
  state: partialConnectorBlockSchema.optional(),
  dlq: partialDlqSchema.nullable().optional(),
  batch_size: batchSize.optional(),
  delivery: delivery.optional(),
  checkpoint_every: duration.optional(),
  on_record_error: onRecordError.optional(),
});

export const executionSchema = z.strictObject({
  max_concurrent: z.number().int().min(1).max(1024).optional(),
  on_error: z.enum(['continue', 'stop']).optional(),
  /** Runs on a queue (`faucet run --queue`): a failed invocation is tried again this many times. */
  retries: z.number().int().min(0).max(100).optional(),
});

export const pipelineFileSchema = z.strictObject({
  version: z
    .literal(1, { error: 'unsupported version; this faucet reads pipeline files of version 1' })
    .optional(),
  name: z.string().regex(NAME_PATTERN, nameMessage).optional(),
  pipeline: pipelineBlockSchema.optional(),
  matrix: z
    .array(matrixRowSchema)
    .min(1, { error: 'has no rows; remove it to run the pipeline once' })
    .optional(),
  execution: executionSchema.optional(),
});

export type PipelineFile = z.infer<typeof pipelineFileSchema>;
export type PipelineBlock = z.infer<typeof pipelineBlockSchema>;
export type MatrixRow = z.infer<typeof matrixRowSchema>;
export type TransformSpecInput = z.infer<typeof transformSpecSchema>;
