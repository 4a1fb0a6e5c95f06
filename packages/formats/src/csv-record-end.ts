/**
 * Where CSV records end, without parsing them: a line feed outside quotes. A quote opens a quoted
 * field only at the start of a field (as the decoder reads it); inside one, a doubled quote is a
 * quote and a single one closes the field. The decoder uses this to wait for the end of a record cut
 * by chunk boundaries without parsing it again for every chunk; the file sink uses it to find the
 * last complete record of a file whose end was torn by a crash.
 */
import { ByteCounter } from './decode-common.js';
import type { RecordEndScanner } from './record-feed.js';
import { type ByteInput, type TextEncoding, textChunks } from './text-chunks.js';

const LF = 10;

export interface CsvRecordEndOptions {
  /** Field separator, one character (default `,`). */
  delimiter?: string;
  /** Quote character, one character (default `"`). */
  quote?: string;
}

/** A scanner for `feedRecords`, and for finding record ends in general. */
export function createCsvRecordEndScanner(options: CsvRecordEndOptions = {}): RecordEndScanner {
  const delimiter = (options.delimiter ?? ',').charCodeAt(0);
  const quoteChar = options.quote ?? '"';
  const quote = quoteChar.charCodeAt(0);
  let inQuotes = false;
  let fieldStart = true;
  // Inside quotes, a quote was the last character seen: the next one decides (doubled or closing).
  let quoteAtEnd = false;

  const find = (text: string, from = 0): number => {
    const len = text.length;
    let p = from;
    if (quoteAtEnd && p < len) {
      quoteAtEnd = false;
      if (text.charCodeAt(p) === quote) p++;
      else inQuotes = false;
    }
    while (p < len) {
      if (inQuotes) {
        const q = text.indexOf(quoteChar, p);
        if (q === -1) return -1;
        if (q + 1 === len) {
          quoteAtEnd = true;
          return -1;
        }
        if (text.charCodeAt(q + 1) === quote) {
          p = q + 2;
          continue;
        }
        inQuotes = false;
        fieldStart = false;
        p = q + 1;
        continue;
      }
      const c = text.charCodeAt(p);
      p++;
      if (c === LF) {
        fieldStart = true;
        return p;
      }
      if (c === delimiter) fieldStart = true;
      else if (c === quote && fieldStart) inQuotes = true;
      else fieldStart = false;
    }
    return -1;
  };

  return {
    reset(text) {
      inQuotes = false;
      fieldStart = true;
      quoteAtEnd = false;
      let end = find(text);
      while (end !== -1 && end < text.length) end = find(text, end);
    },
    find,
  };
}

/**
 * The byte length of the complete records at the start of `input`: the offset just past the last
 * line feed outside quotes (0 when there is none). Reads the input once.
 */
export async function completeCsvRecordsLength(
  input: ByteInput,
  options: CsvRecordEndOptions & { encoding?: TextEncoding; name?: string } = {},
): Promise<number> {
  const scanner = createCsvRecordEndScanner(options);
  let offset = 0;
  let complete = 0;
  const chunks = textChunks(input, {
    encoding: options.encoding ?? 'utf8',
    stripBom: false,
    name: options.name ?? 'input',
    startOffset: 0,
  });
  for await (const chunk of chunks) {
    const counter = new ByteCounter(chunk.text, chunk.bytes);
    for (let end = scanner.find(chunk.text); end !== -1; end = scanner.find(chunk.text, end)) {
      complete = offset + counter.at(end);
    }
    offset += chunk.bytes;
  }
  return complete;
}
