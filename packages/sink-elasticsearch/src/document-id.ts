/**
 * Document `_id`s. From key fields: one key is used verbatim (a string as it is, a number or boolean
 * as its JSON text); several keys make the canonical JSON array of their values (`[42,"eu"]`).
 * For effectively-once appends: a hash of the state key and commit token, plus the record's position
 * in the page, so a page written again after a crash produces the same ids.
 */
import { createHash } from 'node:crypto';
import type { FaucetRecord, JsonValue } from '@faucet/core';
import { fieldValue } from './index-name.js';

/** Elasticsearch refuses an `_id` longer than 512 bytes. */
const MAX_ID_BYTES = 512;

export class DocumentIdError extends Error {}

/** JSON with object keys sorted, so equal values always give equal text. */
function canonical(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k] as JsonValue)}`).join(',')}}`;
}

/** The `_id` of a record from its key fields. Throws DocumentIdError when it has none. */
export function keyId(record: FaucetRecord, key: readonly string[]): string {
  const values: JsonValue[] = [];
  for (const field of key) {
    const value = fieldValue(record, field);
    if (value === undefined || value === null) {
      throw new DocumentIdError(`key field "${field}" is missing or null`);
    }
    values.push(value);
  }
  const only = values[0] as JsonValue;
  const id = values.length === 1 ? (typeof only === 'string' ? only : canonical(only)) : canonical(values);
  if (id.length === 0) throw new DocumentIdError('the key makes an empty _id');
  if (Buffer.byteLength(id) > MAX_ID_BYTES) {
    throw new DocumentIdError(`the key makes an _id of more than ${MAX_ID_BYTES} bytes`);
  }
  return id;
}

/**
 * The id prefix of one effectively-once page: 22 base64url characters of SHA-256 over the state key
 * and the commit token (which names the page's position and the checkpoint it counts from).
 */
export function pageIdPrefix(scope: string, token: string): string {
  return createHash('sha256').update(scope).update('\u0000').update(token).digest('base64url').slice(0, 22);
}
