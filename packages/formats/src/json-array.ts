/**
 * A top-level JSON array of objects, decoded element by element without holding the file: a small
 * scanner finds where each element ends (tracking nesting, strings and escapes) and JSON.parse turns
 * that slice into a record. Validation of each element is JSON.parse's; the scanner only checks the
 * array's own punctuation. No streaming JSON library is needed for that, and JSON.parse (native) is
 * faster per element than any JavaScript tokenizer.
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
import { describeJsonType, jsonErrorMessage } from './jsonl.js';
import { type ByteInput, textChunks } from './text-chunks.js';

/** Where the scanner is: before `[`, before an element, inside one, after one, after `]`. */
type Phase = 'start' | 'first' | 'next' | 'element' | 'after' | 'end';

const LF = 10;
const QUOTE = 34;
const BACKSLASH = 92;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

interface ScanState {
  phase: Phase;
  depth: number;
  inString: boolean;
  line: number;
  /** Line on which the current element starts. */
  elementLine: number;
  /** Elements read so far (for messages). */
  elements: number;
}

function parseElement(text: string, settings: ResolvedDecodeOptions, state: ScanState): FaucetRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DecodeError(`invalid JSON in array element ${state.elements} (${jsonErrorMessage(error)})`, {
      name: settings.name,
      line: state.elementLine,
      cause: error,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DecodeError(`array element ${state.elements} is ${describeJsonType(value)}, not an object`, {
      name: settings.name,
      line: state.elementLine,
    });
  }
  return value as FaucetRecord;
}

/**
 * Decode a JSON array of objects into batches of records. With `startOffset` > 0 the input must start
 * right after an element (where an earlier batch ended): the scanner expects `,` or `]` first.
 *
 * Each chunk is scanned once: an element cut by chunk boundaries is kept as a list of pieces and
 * joined once, when its closing brace arrives (gluing `leftover + chunk` on every chunk made one huge
 * element quadratic).
 */
export async function* decodeJsonArray(
  input: ByteInput,
  options: DecodeOptions = {},
): AsyncGenerator<DecodedBatch, void, undefined> {
  const settings = resolveDecodeOptions(options);
  const { maxRecordBytes, name } = settings;
  let want = settings.nextBatchSize();
  const state: ScanState = {
    phase: settings.startOffset > 0 ? 'after' : 'start',
    depth: 0,
    inString: false,
    line: settings.startLine,
    elementLine: 0,
    elements: 0,
  };
  const fail = (message: string): never => {
    throw new DecodeError(message, { name, line: state.line + 1 });
  };
  // The element being read, when it started in an earlier chunk: its pieces, bytes and offset.
  let pieces: string[] = [];
  let pieceBytes = 0;
  let elementOffset = 0;
  // Inside a string, the previous chunk ended with an odd run of backslashes: the next character is
  // escaped.
  let escapeNext = false;
  let base = settings.startOffset; // offset of the current chunk's first character
  let reported = base;
  let batch: FaucetRecord[] = [];
  const tooLarge = (bytes: number) => {
    if (bytes > maxRecordBytes) {
      throw recordTooLarge({
        name,
        line: state.elementLine,
        offset: elementOffset,
        cap: maxRecordBytes,
        hint: `It is array element ${state.elements + 1}.`,
      });
    }
  };

  const scan = function* (text: string, bytes: number) {
    const counter = new ByteCounter(text, bytes);
    const len = text.length;
    let p = 0;
    let elementStart = state.phase === 'element' ? 0 : -1;
    while (p < len) {
      const c = text.charCodeAt(p);
      if (state.phase === 'element') {
        if (state.inString) {
          if (escapeNext) {
            // The previous chunk ended with an escaping backslash: this first character is escaped.
            escapeNext = false;
            p++;
            continue;
          }
          const q = text.indexOf('"', p);
          // Backslashes right before the quote (or the end of the chunk), back to `p`: before `p`
          // no run of them goes on (an escaped character, an opening quote, or an even run).
          let k = (q === -1 ? len : q) - 1;
          while (k >= p && text.charCodeAt(k) === BACKSLASH) k--;
          const run = (q === -1 ? len : q) - 1 - k;
          if (q === -1) {
            escapeNext = run % 2 === 1;
            p = len;
            break;
          }
          // An even number of backslashes before the quote: it closes the string.
          if (run % 2 === 0) state.inString = false;
          p = q + 1;
          continue;
        }
        p++;
        if (c === QUOTE) state.inString = true;
        else if (c === 123 || c === 91) state.depth++;
        else if (c === 125 || c === 93) {
          state.depth--;
          if (state.depth === 0) {
            const tail = text.slice(elementStart, p);
            // One join: `joined + tail` would make a rope that JSON.parse copies once more.
            if (pieces.length > 0) pieces.push(tail);
            const whole = pieces.length === 0 ? tail : pieces.join('');
            if (whole.length * 3 > maxRecordBytes) tooLarge(Buffer.byteLength(whole, settings.encoding));
            state.elements++;
            pieces = [];
            pieceBytes = 0;
            batch.push(parseElement(whole, settings, state));
            state.phase = 'after';
            elementStart = -1;
            if (batch.length >= want) {
              const offset = base + counter.at(p);
              reported = offset;
              yield { records: batch, offset, line: state.line };
              batch = [];
              want = settings.nextBatchSize();
            }
          }
        } else if (c === LF) state.line++;
        continue;
      }
      if (isSpace(c)) {
        if (c === LF) state.line++;
        p++;
        continue;
      }
      switch (state.phase) {
        case 'start':
          if (c !== 91)
            fail(`expected a JSON array ("[") at the start, found ${excerpt(text.slice(p, p + 20))}`);
          state.phase = 'first';
          p++;
          break;
        case 'first':
        case 'next':
          if (c === 93 && state.phase === 'first') {
            state.phase = 'end';
            p++;
            break;
          }
          if (c !== 123) {
            fail(
              c === 93
                ? 'a "," before "]" (a trailing comma is not JSON)'
                : `array element ${state.elements + 1} is not an object ` +
                    `(starts with ${excerpt(text[p] ?? '')})`,
            );
          }
          state.phase = 'element';
          state.depth = 0;
          state.elementLine = state.line + 1;
          elementStart = p;
          elementOffset = base + counter.at(p);
          break;
        case 'after':
          if (c === 44) state.phase = 'next';
          else if (c === 93) state.phase = 'end';
          else
            fail(
              `expected "," or "]" after array element ${state.elements}, found ${excerpt(text[p] ?? '')}`,
            );
          p++;
          break;
        default:
          fail(`unexpected ${excerpt(text.slice(p, p + 20))} after the closing "]"`);
      }
    }
    if (elementStart >= 0) {
      // The element goes on in the next chunk.
      pieces.push(elementStart === 0 ? text : text.slice(elementStart));
      pieceBytes += bytes - counter.at(elementStart);
      tooLarge(pieceBytes);
    }
    base += bytes;
  };

  const chunks = textChunks(input, {
    encoding: settings.encoding,
    stripBom: settings.startOffset === 0,
    name,
    startOffset: settings.startOffset,
  });
  let resumedAtEnd = settings.startOffset > 0;
  for await (const chunk of chunks) {
    base += chunk.skipped;
    if (resumedAtEnd && chunk.text.trim() !== '') resumedAtEnd = false;
    yield* scan(chunk.text, chunk.bytes);
  }
  // Resuming at the offset of the last batch (after the closing "]") leaves nothing to read.
  if (state.phase !== 'start' && state.phase !== 'end' && !resumedAtEnd) {
    fail('the input ends inside the array (a "]" is missing)');
  }
  if (batch.length > 0 || base !== reported) yield { records: batch, offset: base, line: state.line };
}
