/**
 * Records as Kafka messages: the topic, key, value, partition and headers each record asks for, with
 * every problem found before anything is sent reported against its row.
 */
import { cursorValue, type FaucetRecord, type JsonValue } from '@faucet/core';
import type { IHeaders } from 'kafkajs';
import type { KafkaSinkConfig } from './config.js';

export interface Outgoing {
  /** Position of the record in the batch given to `write`. */
  index: number;
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  /** The partition the record names (partition_path); otherwise chosen later. */
  partition?: number;
  headers?: IHeaders;
  /** Bytes the message takes in a record batch, about (key, value, headers and overhead). */
  size: number;
}

export class RowProblem extends Error {}

type Format = KafkaSinkConfig['value_format'];

function encode(value: JsonValue, format: Format, what: 'key' | 'value'): Buffer {
  switch (format) {
    case 'json':
      return Buffer.from(JSON.stringify(value), 'utf8');
    case 'string':
      if (typeof value === 'string') return Buffer.from(value, 'utf8');
      if (what === 'key' && (typeof value === 'number' || typeof value === 'boolean')) {
        return Buffer.from(String(value), 'utf8');
      }
      throw new RowProblem(`the ${what} is ${describe(value)}, not text (${what}_format: string)`);
    case 'bytes':
      if (typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length % 4 === 0) {
        return Buffer.from(value, 'base64');
      }
      throw new RowProblem(`the ${what} is not base64 text (${what}_format: bytes)`);
  }
}

function describe(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function headersOf(value: JsonValue | undefined, path: string): IHeaders | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new RowProblem(`headers_path "${path}" holds ${describe(value)}, not an object`);
  }
  const headers: IHeaders = {};
  for (const [name, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    if (Array.isArray(v))
      headers[name] = v.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
    else headers[name] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return headers;
}

function headerBytes(headers: IHeaders | undefined): number {
  if (!headers) return 0;
  let n = 0;
  for (const [name, v] of Object.entries(headers)) {
    const values = Array.isArray(v) ? v : [v];
    for (const item of values) n += name.length + (item === undefined ? 0 : Buffer.byteLength(item)) + 4;
  }
  return n;
}

/** Per-record overhead in a v2 record batch (length, attributes, deltas, varints), generously. */
const RECORD_OVERHEAD = 24;

export interface PreparedBatch {
  messages: Outgoing[];
  failures: { index: number; error: RowProblem }[];
}

/** Turn records into messages; a record that cannot be one is a failure of its row. */
export function prepareMessages(records: readonly FaucetRecord[], config: KafkaSinkConfig): PreparedBatch {
  const messages: Outgoing[] = [];
  const failures: { index: number; error: RowProblem }[] = [];
  const fixedTopic =
    typeof config.topic === 'string'
      ? config.topic
      : config.topic.type === 'fixed'
        ? config.topic.name
        : undefined;
  const topicPath =
    typeof config.topic === 'object' && config.topic.type === 'from_path' ? config.topic.path : undefined;
  records.forEach((record, index) => {
    try {
      let topic = fixedTopic;
      if (topicPath !== undefined) {
        const named = cursorValue(record, topicPath);
        if (typeof named !== 'string' || named === '') {
          throw new RowProblem(
            `the topic field "${topicPath}" is ${named === undefined ? 'missing' : describe(named)}`,
          );
        }
        topic = named;
      }
      const keyValue = config.key_path === undefined ? undefined : cursorValue(record, config.key_path);
      const key =
        keyValue === undefined || keyValue === null ? null : encode(keyValue, config.key_format, 'key');
      let value: Buffer | null;
      if (config.value_path === undefined) value = encode(record, config.value_format, 'value');
      else {
        const v = cursorValue(record, config.value_path);
        value = v === undefined || v === null ? null : encode(v, config.value_format, 'value');
      }
      const out: Outgoing = { index, topic: topic as string, key, value, size: 0 };
      if (config.partition_path !== undefined) {
        const p = cursorValue(record, config.partition_path);
        if (p !== undefined && p !== null) {
          if (typeof p !== 'number' || !Number.isSafeInteger(p) || p < 0) {
            throw new RowProblem(`the partition field "${config.partition_path}" is not a partition number`);
          }
          out.partition = p;
        }
      }
      if (config.headers_path !== undefined) {
        const headers = headersOf(cursorValue(record, config.headers_path), config.headers_path);
        if (headers) out.headers = headers;
      }
      out.size = (key?.length ?? 0) + (value?.length ?? 0) + headerBytes(out.headers) + RECORD_OVERHEAD;
      messages.push(out);
    } catch (error) {
      if (!(error instanceof RowProblem)) throw error;
      failures.push({ index, error });
    }
  });
  return { messages, failures };
}
