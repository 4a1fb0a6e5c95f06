/** The dead-letter envelope (ARCHITECTURE §6). Its keys are a public format: change them never. */
import { errorKind, errorMessage } from '../errors.js';
import type { Redactor } from '../redact.js';
import type { FaucetRecord, JsonObject } from '../types.js';

export type DlqReason = 'partial' | 'dlq_all';

export interface DlqEnvelope extends JsonObject {
  error: { kind: string; message: string };
  reason: DlqReason;
  /** The record as the sink received it (after transforms). */
  payload: FaucetRecord;
  ts_ms: number;
  /** The main sink's connector id. */
  sink: string;
  pipeline: string;
  row: string;
  /** Position of the record in its page, after transforms. */
  record_index: number;
}

export function buildEnvelope(fields: {
  error: unknown;
  reason: DlqReason;
  payload: FaucetRecord;
  sink: string;
  pipeline: string;
  row: string;
  recordIndex: number;
  redactor: Redactor;
  now?: number;
}): DlqEnvelope {
  return {
    error: { kind: errorKind(fields.error), message: fields.redactor.redact(errorMessage(fields.error)) },
    reason: fields.reason,
    payload: fields.redactor.size > 0 ? fields.redactor.redactValue(fields.payload) : fields.payload,
    ts_ms: fields.now ?? Date.now(),
    sink: fields.sink,
    pipeline: fields.pipeline,
    row: fields.row,
    record_index: fields.recordIndex,
  };
}

/** Recover the payload of an envelope (for replay); only `payload` is required. */
export function unwrapEnvelope(value: unknown): FaucetRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const payload = (value as { payload?: unknown }).payload;
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
    ? (payload as FaucetRecord)
    : undefined;
}
