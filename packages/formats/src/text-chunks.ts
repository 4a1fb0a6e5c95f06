/**
 * Bytes in, text out, with exact byte counts. Decoders report the byte offset after each batch so a
 * file source can resume an append-only file by seeking; that needs to know how many input bytes each
 * piece of text came from. Chunks are therefore cut at character boundaries (never inside a UTF-8
 * sequence) and carry their byte length; invalid UTF-8 is an error rather than silently replaced,
 * because a replacement character would make those counts wrong.
 */
import { isUtf8 } from 'node:buffer';
import { DecodeError } from './errors.js';

export type TextEncoding = 'utf8' | 'latin1';

/** Raw input: a Node Readable, an async generator, or an array of chunks (strings are UTF-8). */
export type ByteInput = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

export interface TextChunk {
  text: string;
  /** Input bytes `text` came from. */
  bytes: number;
  /** Bytes dropped before `text` (a byte-order mark). */
  skipped: number;
}

export interface TextChunkOptions {
  encoding: TextEncoding;
  /** Drop a UTF-8 byte-order mark at the very start (only when reading from offset 0). */
  stripBom: boolean;
  /** Input name for errors. */
  name: string;
  /** Absolute offset of the first input byte, for error messages. */
  startOffset: number;
}

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Length of the prefix of `buf` that ends on a UTF-8 character boundary. */
function completeUtf8Length(buf: Buffer): number {
  const n = buf.length;
  for (let i = n - 1; i >= 0 && i >= n - 4; i--) {
    const b = buf[i] as number;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: keep looking for the lead byte
    if (b < 0x80) return n;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return n - i >= need ? n : i;
  }
  return n;
}

export async function* textChunks(
  input: ByteInput,
  options: TextChunkOptions,
): AsyncGenerator<TextChunk, void, undefined> {
  const utf8 = options.encoding === 'utf8';
  let carry: Buffer | undefined;
  let first = options.stripBom;
  let offset = options.startOffset;
  const emit = (buf: Buffer, end: number): TextChunk => {
    let start = 0;
    if (first) {
      first = false;
      if (end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
    }
    const text = buf.toString(options.encoding, start, end);
    const bytes = end - start;
    // Every UTF-16 unit takes at least one byte, so equal lengths mean one byte per unit: ASCII, or
    // invalid bytes each decoded as U+FFFD (a real U+FFFD takes three). V8 answers the indexOf at
    // once for a one-byte string, so ASCII pays nothing for that test.
    const suspect = text.length !== bytes || text.indexOf('\uFFFD') !== -1;
    if (utf8 && suspect && !isUtf8(buf.subarray(start, end))) {
      throw new DecodeError(
        `the input is not valid UTF-8 (between bytes ${offset} and ${offset + end}); ` +
          'set encoding: latin1 for Latin-1 files',
        { name: options.name },
      );
    }
    offset += end;
    return { text, bytes, skipped: start };
  };
  for await (const raw of input) {
    let buf = toBuffer(raw);
    if (buf.length === 0) continue;
    if (carry) {
      buf = Buffer.concat([carry, buf]);
      carry = undefined;
    }
    // The BOM check needs the first three bytes together.
    if (first && buf.length < 3) {
      carry = buf;
      continue;
    }
    const end = utf8 ? completeUtf8Length(buf) : buf.length;
    if (end < buf.length) carry = Buffer.from(buf.subarray(end));
    if (end > 0) yield emit(buf, end);
  }
  if (carry) yield emit(carry, carry.length);
}
