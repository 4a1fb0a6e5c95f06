/** The dead-letter envelope (ARCHITECTURE §6). Its keys are a public format: change them never. */
import { ErrorCodes, errorMessage, isFaucetError } from '../errors.js';
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
    error: {
      kind: envelopeKind(fields.error, fields.reason),
      message: fields.redactor.redact(errorMessage(fields.error)),
    },
    reason: fields.reason,
    payload: fields.redactor.size > 0 ? fields.redactor.redactValue(fields.payload) : fields.payload,
    ts_ms: fields.now ?? Date.now(),
    sink: fields.sink,
    pipeline: fields.pipeline,
    row: fields.row,
    record_index: fields.recordIndex,
  };
}

/**
 * A stable kind: a FaucetError's code, else the generic code of the failure (a client library's
 * error class name is not something a DLQ consumer should have to match on).
 */
function envelopeKind(error: unknown, reason: DlqReason): string {
  if (isFaucetError(error)) return error.code;
  return reason === 'partial' ? ErrorCodes.SINK_ROW_REJECTED : ErrorCodes.SINK_WRITE_FAILED;
}

/** Recover the payload of an envelope (for replay); only `payload` is required. */
export function unwrapEnvelope(value: unknown): FaucetRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const payload = (value as { payload?: unknown }).payload;
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
    ? (payload as FaucetRecord)
    : undefined;
}
