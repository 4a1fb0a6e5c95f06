/**
 * Kafka messages as faucet records: `{topic, partition, offset, key, value, timestamp, headers}`.
 * Keys and values are decoded by their configured format: json (parsed), string (UTF-8 text) or
 * bytes (base64 text). Headers are UTF-8 text (a list when a header name repeats).
 */
import type { FaucetRecord, JsonObject, JsonValue, RejectedRecord } from '@faucet/core';
import type { IHeaders, KafkaMessage } from 'kafkajs';

export type Format = 'json' | 'string' | 'bytes';

/** A field that would not decode: which one, and why. */
export class DecodeFailure extends Error {
  constructor(
    readonly field: 'key' | 'value',
    readonly format: Format,
    message: string,
  ) {
    super(message);
    this.name = 'DecodeFailure';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeField(data: Buffer | null, format: Format, field: 'key' | 'value'): JsonValue {
  if (data === null) return null;
  if (format === 'bytes') return data.toString('base64');
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    throw new DecodeFailure(field, format, `the ${field} is not valid UTF-8 (${field}_format: ${format})`);
  }
  if (format === 'string') return text;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new DecodeFailure(field, format, `the ${field} is not JSON (${field}_format: json)`);
  }
}

function headerText(value: Buffer | string): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}

export function decodeHeaders(headers: IHeaders | undefined): JsonObject {
  const out: JsonObject = {};
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map(headerText) : headerText(value);
  }
  return out;
}

/** int64 offsets as numbers while they are exact (always, in practice), else as strings. */
export function offsetValue(offset: string): number | string {
  const n = Number(offset);
  return Number.isSafeInteger(n) ? n : offset;
}

export interface DecodeOptions {
  keyFormat: Format;
  valueFormat: Format;
}

/** The record of one message; throws DecodeFailure when its key or value does not decode. */
export function messageRecord(
  topic: string,
  partition: number,
  message: KafkaMessage,
  options: DecodeOptions,
): FaucetRecord {
  return {
    topic,
    partition,
    offset: offsetValue(message.offset),
    key: decodeField(message.key, options.keyFormat, 'key'),
    value: decodeField(message.value, options.valueFormat, 'value'),
    timestamp: Number(message.timestamp),
    headers: decodeHeaders(message.headers),
  };
}

/**
 * A message that did not decode, for `Page.rejected`: the raw bytes of the field that failed (as
 * base64) and where the message is (topic, partition, offset; the key as base64 when the value failed).
 */
export function rejectedMessage(
  topic: string,
  partition: number,
  message: KafkaMessage,
  field: 'key' | 'value',
  error: Error,
): RejectedRecord {
  const bytes = field === 'key' ? message.key : message.value;
  const position: JsonObject = {
    topic,
    partition,
    offset: offsetValue(message.offset),
    timestamp: Number(message.timestamp),
    field,
  };
  if (field === 'value' && message.key !== null) position.key_base64 = message.key.toString('base64');
  return { error, raw: bytes === null ? '' : bytes.toString('base64'), position };
}
