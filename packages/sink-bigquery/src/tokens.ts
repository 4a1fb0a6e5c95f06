/**
 * Effectively-once without a second table. A page's job (its load job, or its MERGE) gets an id
 * derived from the target, the state key, the engine's commit token and the page's bytes: a replayed
 * page re-submits the same id, and BigQuery's "Already Exists" answer for a job id means the page was
 * already committed. The bytes are part of the id so that a source which re-reads different records
 * at the same position (a REST API that changed meanwhile) is never mistaken for the old page.
 *
 * The job also carries the token itself in its labels, so `lastCommittedToken` finds it in the job
 * history (`jobs.list`, newest first) and the engine can skip pages instead of re-sending them.
 * Labels are lowercase letters, digits, `_` and `-`, at most 63 characters, 64 per job: the token is
 * spelled in base32 across as many labels as it needs (about 2.4 KB of token at most).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { TableRef } from './context.js';

export const SCOPE_LABEL = 'faucet_scope';
const COUNT_LABEL = 'faucet_tn';
const CHUNK = 63;
/** 64 labels per job, two of them ours besides the chunks. */
const MAX_CHUNKS = 62;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

const sha256 = (...parts: string[]): string =>
  createHash('sha256').update(parts.join('\u0000')).digest('hex');

/** The label value that marks this sink's jobs for one state key (scope). */
export function scopeLabel(ref: TableRef, scope: string): string {
  return sha256('scope', ref.projectId, ref.datasetId, ref.tableId, scope).slice(0, 40);
}

/** The job id of a page: the same for the same target, scope, token and bytes; `retry` > 0 after a failed job. */
export function pageJobId(
  prefix: string,
  ref: TableRef,
  scope: string,
  token: string,
  digest: string,
  retry = 0,
): string {
  const id = sha256('page', ref.projectId, ref.datasetId, ref.tableId, scope, token, digest).slice(0, 48);
  return `${prefix}_${id}${retry > 0 ? `_r${retry}` : ''}`;
}

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Uint8Array | undefined {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const digit = ALPHABET.indexOf(ch);
    if (digit < 0) return undefined;
    value = (value << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  return Uint8Array.from(out);
}

/** Labels for a page's job; without the token when it is too long to fit (then only the id dedups). */
export function tokenLabels(ref: TableRef, scope: string, token: string): Record<string, string> {
  const text = base32(new TextEncoder().encode(token));
  const chunks = Math.ceil(text.length / CHUNK);
  const labels: Record<string, string> = { [SCOPE_LABEL]: scopeLabel(ref, scope) };
  if (chunks > MAX_CHUNKS) {
    labels[COUNT_LABEL] = '0';
    return labels;
  }
  labels[COUNT_LABEL] = String(chunks);
  for (let i = 0; i < chunks; i++) {
    labels[`faucet_t${String(i).padStart(2, '0')}`] = text.slice(i * CHUNK, (i + 1) * CHUNK);
  }
  return labels;
}

/** The token spelled in a job's labels, or undefined. */
export function tokenFromLabels(labels: Readonly<Record<string, string>> | undefined): string | undefined {
  const count = Number(labels?.[COUNT_LABEL]);
  if (!labels || !Number.isInteger(count) || count <= 0 || count > MAX_CHUNKS) return undefined;
  let text = '';
  for (let i = 0; i < count; i++) {
    const chunk = labels[`faucet_t${String(i).padStart(2, '0')}`];
    if (chunk === undefined) return undefined;
    text += chunk;
  }
  const bytes = unbase32(text);
  return bytes ? new TextDecoder().decode(bytes) : undefined;
}

/** A token too long for labels (a huge bookmark): worth a warning, once. */
export const tokenFits = (token: string): boolean =>
  Math.ceil(Math.ceil((new TextEncoder().encode(token).length * 8) / 5) / CHUNK) <= MAX_CHUNKS;

/** A job id nobody else derives: for jobs whose replay needs no de-duplication. */
export const randomJobId = (prefix: string): string => `${prefix}_${randomUUID().replace(/-/g, '')}`;
