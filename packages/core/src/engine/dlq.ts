/** The dead-letter envelope (ARCHITECTURE §6). Its keys are a public format: change them never. */
import { ErrorCodes, errorMessage, isFaucetError } from '../errors.js';
import type { Redactor } from '../redact.js';
import type { FaucetRecord, JsonObject } from '../types.js';

/**
 * Why a row is in the DLQ: the sink rejected it (`partial`), its whole batch failed (`dlq_all`), the
 * source could not decode it (`source`: no payload, the raw text instead), or a transform could not
 * convert it (`transform`: the payload is the record as the source read it).
 */
export type DlqReason = 'partial' | 'dlq_all' | 'source' | 'transform';

/**
 * A type alias (an intersection with JsonObject), not an interface extending it: an interface may
 * not declare optional properties beside a JSON index signature in a consumer's compile without
 * `exactOptionalPropertyTypes` (found by the release rehearsal's `tsc --strict`).
 */
export type DlqEnvelope = JsonObject & {
  error: { kind: string; message: string };
  reason: DlqReason;
  /**
   * The record as the sink received it (after transforms); for `transform` the record as read; null
   * for `source` (nothing could be decoded: see `raw`).
   */
  payload: FaucetRecord | null;
  ts_ms: number;
  /** The main sink's connector id. */
  sink: string;
  pipeline: string;
  row: string;
  /** Position of the record in its page (after transforms; for `source` and `transform`, as read). */
  record_index: number;
  /** `source` only: the raw text as read (binary as base64), secrets redacted. */
  raw?: string;
  /** `source` and `transform`: where the record was (file, line, byte offset …). */
  position?: JsonObject;
};

export function buildEnvelope(fields: {
  error: unknown;
  reason: DlqReason;
  payload: FaucetRecord | null;
  sink: string;
  pipeline: string;
  row: string;
  recordIndex: number;
  redactor: Redactor;
  raw?: string;
  position?: JsonObject;
  now?: number;
}): DlqEnvelope {
  const redacting = fields.redactor.size > 0;
  const envelope: DlqEnvelope = {
    error: {
      kind: envelopeKind(fields.error, fields.reason),
      message: fields.redactor.redact(errorMessage(fields.error)),
    },
    reason: fields.reason,
    payload:
      redacting && fields.payload !== null ? fields.redactor.redactValue(fields.payload) : fields.payload,
    ts_ms: fields.now ?? Date.now(),
    sink: fields.sink,
    pipeline: fields.pipeline,
    row: fields.row,
    record_index: fields.recordIndex,
  };
  if (fields.raw !== undefined) envelope.raw = redacting ? fields.redactor.redact(fields.raw) : fields.raw;
  if (fields.position !== undefined) envelope.position = fields.position;
  return envelope;
}

/**
 * A stable kind: a FaucetError's code, else the generic code of the failure (a client library's
 * error class name is not something a DLQ consumer should have to match on).
 */
function envelopeKind(error: unknown, reason: DlqReason): string {
  if (isFaucetError(error)) return error.code;
  return GENERIC_KINDS[reason];
}

const GENERIC_KINDS: Record<DlqReason, string> = {
  partial: ErrorCodes.SINK_ROW_REJECTED,
  dlq_all: ErrorCodes.SINK_WRITE_FAILED,
  source: ErrorCodes.RECORD_INVALID,
  transform: ErrorCodes.TRANSFORM_FAILED,
};

/** Recover the payload of an envelope (for replay); only `payload` is required. */
export function unwrapEnvelope(value: unknown): FaucetRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const payload = (value as { payload?: unknown }).payload;
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
    ? (payload as FaucetRecord)
    : undefined;
}
