/**
 * Feeding decoded text to a record parser so that a record cut by chunk boundaries is parsed once,
 * whole. While a record is incomplete, each new chunk is only scanned for the place where the record
 * may end (a line break for JSON Lines, a line break outside quotes for CSV); the pieces are kept in
 * a list and joined once when that place arrives. Parsing `leftover + chunk` again on every chunk,
 * as the decoders once did, costs time and memory quadratic in the size of one record (a 50 MB line
 * took a minute).
 *
 * The parser stays the authority on where records end: the scanner only decides when it is worth
 * parsing again. A scanner that stops too early costs another scan; it cannot change the records.
 */
import type { TextChunk } from './text-chunks.js';

/** Finds where a pending (incomplete) record may end, carrying its state from piece to piece. */
export interface RecordEndScanner {
  /** Start a new pending record whose text so far is `text`. */
  reset(text: string): void;
  /**
   * The index just past the first place in `text` from `from` (default 0; the text continues the
   * record) where the record may end, or -1. After an end the scanner is at the start of a record.
   */
  find(text: string, from?: number): number;
}

/** What a parse consumed: `stop` characters, `bytes` input bytes. The rest starts an incomplete record. */
export interface Consumed {
  stop: number;
  bytes: number;
}

/**
 * Parse whole records from `text` (the input's next `bytes` bytes), yielding batches. Without
 * `final`, a record that reaches the end of `text` is incomplete: it is left unconsumed.
 */
export type ParseText<T> = (text: string, bytes: number, final: boolean) => Generator<T, Consumed, undefined>;

export interface FeedOptions {
  scanner: RecordEndScanner;
  /** The cap on one record's bytes (see `DecodeOptions.maxRecordBytes`). */
  maxRecordBytes: number;
  /** Build the error for a pending record of `bytes` bytes that is over the cap. */
  tooLarge(bytes: number): Error;
  /** Bytes dropped before a chunk's text (a byte-order mark): the parser's offsets move past them. */
  skipped(bytes: number): void;
}

/** Run `parse` over `chunks`, holding an incomplete record as a list of pieces. */
export async function* feedRecords<T>(
  chunks: AsyncIterable<TextChunk>,
  options: FeedOptions,
  parse: ParseText<T>,
): AsyncGenerator<T, void, undefined> {
  const { scanner, maxRecordBytes } = options;
  let pieces: string[] = [];
  let pendingBytes = 0;
  /** The pending record as one string (one join; `a + b` would make a rope the parser copies again). */
  const take = (): string => {
    const whole = pieces.length === 1 ? (pieces[0] as string) : pieces.join('');
    pieces = [];
    return whole;
  };
  // A pending record may still end with the CR of a CRLF, which is not part of the record.
  const guard = () => {
    if (pendingBytes > maxRecordBytes + 1) throw options.tooLarge(pendingBytes);
  };
  const run = function* (text: string, bytes: number, final: boolean) {
    const done = yield* parse(text, bytes, final);
    if (done.stop < text.length) {
      const rest = text.slice(done.stop);
      pieces = [rest];
      pendingBytes = bytes - done.bytes;
      guard();
      scanner.reset(rest);
    } else {
      pendingBytes = 0;
    }
  };
  for await (const chunk of chunks) {
    options.skipped(chunk.skipped);
    if (pieces.length === 0) {
      yield* run(chunk.text, chunk.bytes, false);
      continue;
    }
    if (scanner.find(chunk.text) === -1) {
      pieces.push(chunk.text);
      pendingBytes += chunk.bytes;
      guard();
      continue;
    }
    // The pending record ends in this chunk: parse it and the rest of the chunk as one text (for
    // the usual short record cut by a chunk boundary that is the leftover glued to the chunk).
    pieces.push(chunk.text);
    const joinedBytes = pendingBytes + chunk.bytes;
    pendingBytes = 0;
    yield* run(take(), joinedBytes, false);
  }
  const last = take();
  const lastBytes = pendingBytes;
  yield* run(last, lastBytes, true);
}

/** JSON Lines: a record may end at the next line feed. */
export const lineEndScanner: RecordEndScanner = {
  reset() {},
  find(text, from = 0) {
    const at = text.indexOf('\n', from);
    return at === -1 ? -1 : at + 1;
  },
};
