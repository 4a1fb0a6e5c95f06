/**
 * What every decoder shares: its options, the batch it yields, and the byte bookkeeping that turns a
 * position in decoded text back into an exact offset in the input file.
 */
import type { FaucetRecord } from '@faucet/core';
import { ConfigError } from '@faucet/core';
import type { DecodeError } from './errors.js';
import type { TextEncoding } from './text-chunks.js';

/** A record that could not be decoded, set aside with `skipInvalid` (see DecodeOptions). */
export interface InvalidRecord {
  /** What is wrong, naming the input and line. */
  error: DecodeError;
  /** The record's text as read (without its line break). */
  raw: string;
  /** Line where the record starts (1-based). */
  line: number;
  /** Byte offset where the record starts. */
  offset: number;
}

export interface DecodedBatch {
  /** At most `batchSize` records; empty only for the final batch when it merely moves the offset. */
  records: FaucetRecord[];
  /** With `skipInvalid`: the records before `offset` that could not be decoded, in input order. */
  rejected?: InvalidRecord[];
  /**
   * Absolute byte offset just past the batch's last record (or past trailing blank lines at the end):
   * reading again from here yields exactly the records after this batch.
   */
  offset: number;
  /** Lines before `offset`: the next record starts on line `line + 1`. */
  line: number;
}

export interface DecodeOptions {
  /** Records per batch (default 1000). */
  batchSize?: number;
  /**
   * Asked before each batch starts, instead of `batchSize`: how many records the next batch may hold
   * (at least 1). A caller that fills pages from several files asks for just what still fits, so its
   * pages end exactly at a batch end (where the offset is known).
   */
  nextBatchSize?: () => number;
  /** Name of the input in error messages, usually the file path (default `input`). */
  name?: string;
  /**
   * Byte offset in the file of the first input byte (default 0): set it when the input starts
   * mid-file, on resume. A byte-order mark is only looked for at offset 0.
   */
  startOffset?: number;
  /** Lines before `startOffset`, so error messages keep counting from the file's first line. */
  startLine?: number;
  /** `utf8` (default; invalid UTF-8 is an error) or `latin1`. */
  encoding?: TextEncoding;
  /**
   * Largest record, in bytes of the (decompressed) input, not counting its line break (default
   * 64 MiB). A larger one is a DecodeError naming the input, the line and byte offset where the
   * record starts, and the cap; it bounds memory when a file has no line breaks or an unbalanced
   * quote. The file and S3 sources expose it as `max_record_bytes`.
   */
  maxRecordBytes?: number;
  /** @deprecated Read as `maxRecordBytes`. */
  maxRecordChars?: number;
  /**
   * Set aside records that cannot be decoded instead of failing (default false): a JSON Lines line that
   * is not JSON or not an object, a CSV row with the wrong number of fields (when not `flexible`). They
   * come in the batch's `rejected`, with their raw text, line and byte offset, and decoding goes on.
   * Problems with the input as a whole (invalid UTF-8, an unclosed quote at the end, a record over the
   * cap) still throw: no record boundary can be trusted after them.
   */
  skipInvalid?: boolean;
}

export interface ResolvedDecodeOptions {
  batchSize: number;
  /** The size of the next batch. */
  nextBatchSize: () => number;
  name: string;
  startOffset: number;
  startLine: number;
  encoding: TextEncoding;
  maxRecordBytes: number;
  skipInvalid: boolean;
}

export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;
/** @deprecated The cap counts bytes now: `DEFAULT_MAX_RECORD_BYTES`. */
export const DEFAULT_MAX_RECORD_CHARS = DEFAULT_MAX_RECORD_BYTES;

function wholeNumber(value: number, path: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError([{ path, message: `expected a whole number of at least ${min}, got ${value}` }]);
  }
  return value;
}

export function resolveDecodeOptions(options: DecodeOptions): ResolvedDecodeOptions {
  const batchSize = wholeNumber(options.batchSize ?? DEFAULT_BATCH_SIZE, 'batch_size', 1);
  const ask = options.nextBatchSize;
  return {
    batchSize,
    nextBatchSize: ask ? () => Math.max(1, Math.floor(ask())) : () => batchSize,
    name: options.name ?? 'input',
    startOffset: wholeNumber(options.startOffset ?? 0, 'start_offset', 0),
    startLine: wholeNumber(options.startLine ?? 0, 'start_line', 0),
    encoding: options.encoding ?? 'utf8',
    maxRecordBytes: wholeNumber(
      options.maxRecordBytes ?? options.maxRecordChars ?? DEFAULT_MAX_RECORD_BYTES,
      'max_record_bytes',
      1,
    ),
    skipInvalid: options.skipInvalid === true,
  };
}

/**
 * Byte offsets of positions in one piece of text. `bytes` is the input length it was decoded from;
 * when it equals the text length every unit took one byte and positions are offsets, otherwise the
 * UTF-8 length of the part since the last asked position is measured (text is valid UTF-8 by then).
 */
export class ByteCounter {
  private oneByte: boolean;
  private lastChar = 0;
  private lastByte = 0;

  constructor(
    private readonly text: string,
    bytes: number,
  ) {
    this.oneByte = text.length === bytes;
  }

  /** Bytes from the start of the text to `position` (positions must not go backwards). */
  at(position: number): number {
    if (this.oneByte) return position;
    this.lastByte += Buffer.byteLength(this.text.slice(this.lastChar, position), 'utf8');
    this.lastChar = position;
    return this.lastByte;
  }
}
