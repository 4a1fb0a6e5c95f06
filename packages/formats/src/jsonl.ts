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
  type ResolvedDecodeOptions,
  resolveDecodeOptions,
} from './decode-common.js';
import { DecodeError, excerpt, recordTooLarge } from './errors.js';
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
    throw new DecodeError(`invalid JSON (${jsonErrorMessage(error)}) in line ${excerpt(text)}`, {
      name: settings.name,
      line,
      cause: error,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DecodeError(`expected a JSON object on each line, found ${describeJsonType(value)}`, {
      name: settings.name,
      line,
    });
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
        const record = parseLine(text.slice(p, end), settings, line);
        if (record !== undefined) batch.push(record);
      }
      p = nl + 1;
      if (batch.length >= want) {
        const offset = base + counter.at(Math.min(p, len));
        reported = offset;
        yield { records: batch, offset, line };
        batch = [];
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
  if (batch.length > 0 || base !== reported) yield { records: batch, offset: base, line };
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
