/**
 * JSON Lines: one JSON object per line, LF or CRLF, blank lines skipped. Decoding parses each line
 * with JSON.parse as soon as its line break arrives; a bad line is an error naming the input and the
 * line (never quoting more than a short excerpt). Encoding is JSON.stringify per record.
 */
import type { FaucetRecord } from '@faucet/core';
import {
  ByteCounter,
  type DecodedBatch,
  type DecodeOptions,
  type InvalidRecord,
  type ResolvedDecodeOptions,
  resolveDecodeOptions,
} from './decode-common.js';
import { DecodeError, excerpt, recordErrorHint, recordTooLarge } from './errors.js';
import { feedRecords, lineEndScanner } from './record-feed.js';
import { type ByteInput, textChunks } from './text-chunks.js';

const OPEN_BRACE = 123;
const CR = 13;

export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** JSON.parse's message, shortened: V8 quotes part of the text and lines can be huge. */
export function jsonErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}

function parseLine(text: string, settings: ResolvedDecodeOptions, line: number): FaucetRecord | undefined {
  if (text.charCodeAt(0) !== OPEN_BRACE && text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DecodeError(
      `invalid JSON (${jsonErrorMessage(error)}) in line ${excerpt(text)}${recordErrorHint(settings.skipInvalid)}`,
      {
        name: settings.name,
        line,
        cause: error,
      },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DecodeError(
      `expected a JSON object on each line, found ${describeJsonType(value)}${recordErrorHint(settings.skipInvalid)}`,
      {
        name: settings.name,
        line,
      },
    );
  }
  return value as FaucetRecord;
}

/** Decode JSON Lines into batches of records, the first before the input ends. */
export async function* decodeJsonl(
  input: ByteInput,
  options: DecodeOptions = {},
): AsyncGenerator<DecodedBatch, void, undefined> {
  const settings = resolveDecodeOptions(options);
  const { maxRecordBytes, name } = settings;
  let want = settings.nextBatchSize();
  let line = settings.startLine;
  let base = settings.startOffset; // offset of the first character of the text being parsed
  let reported = base;
  let batch: FaucetRecord[] = [];
  let rejected: InvalidRecord[] = [];
  /** The batch to yield, with what was set aside since the last one. */
  const take = (offset: number): DecodedBatch => {
    const out: DecodedBatch = { records: batch, offset, line };
    if (rejected.length > 0) out.rejected = rejected;
    batch = [];
    rejected = [];
    return out;
  };
  /** Parse one line; with skipInvalid a bad line is set aside instead of failing. */
  const record = (text: string, offset: number): FaucetRecord | undefined => {
    if (!settings.skipInvalid) return parseLine(text, settings, line);
    try {
      return parseLine(text, settings, line);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      rejected.push({ error, raw: text, line, offset });
      return undefined;
    }
  };
  const tooLarge = (offset: number) =>
    recordTooLarge({
      name,
      line: line + 1,
      offset,
      cap: maxRecordBytes,
      hint: 'Does the file have line breaks?',
    });
  const parse = function* (text: string, bytes: number, final: boolean) {
    const counter = new ByteCounter(text, bytes);
    const len = text.length;
    let p = 0;
    while (p < len) {
      let nl = text.indexOf('\n', p);
      if (nl === -1) {
        if (!final) break;
        nl = len;
      }
      const end = nl > p && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
      // Cheap first: a UTF-16 unit is at most three UTF-8 bytes.
      if (
        (end - p) * 3 > maxRecordBytes &&
        Buffer.byteLength(text.slice(p, end), settings.encoding) > maxRecordBytes
      ) {
        throw tooLarge(base + counter.at(p));
      }
      line++;
      if (end > p) {
        const parsed = record(text.slice(p, end), base + counter.at(p));
        if (parsed !== undefined) batch.push(parsed);
      }
      p = nl + 1;
      // Set-aside lines count toward the batch too, so a file of bad lines stays bounded.
      if (batch.length + rejected.length >= want) {
        const offset = base + counter.at(Math.min(p, len));
        reported = offset;
        yield take(offset);
        want = settings.nextBatchSize();
      }
    }
    const stop = Math.min(p, len);
    const consumed = counter.at(stop);
    base += consumed;
    return { stop, bytes: consumed };
  };
  const chunks = textChunks(input, {
    encoding: settings.encoding,
    stripBom: settings.startOffset === 0,
    name,
    startOffset: settings.startOffset,
  });
  const feed = {
    scanner: lineEndScanner,
    maxRecordBytes,
    tooLarge: () => tooLarge(base),
    skipped: (bytes: number) => {
      base += bytes;
    },
  };
  yield* feedRecords(chunks, feed, parse);
  if (batch.length > 0 || rejected.length > 0 || base !== reported) yield take(base);
}

/** Records as JSON Lines text: one compact JSON object per line, each line ending in `\n`. */
export function encodeJsonlText(records: readonly FaucetRecord[]): string {
  let out = '';
  for (const record of records) out += `${JSON.stringify(record)}\n`;
  return out;
}

/** Records as JSON Lines bytes. */
export function encodeJsonl(records: readonly FaucetRecord[]): Buffer {
  return Buffer.from(encodeJsonlText(records), 'utf8');
}
