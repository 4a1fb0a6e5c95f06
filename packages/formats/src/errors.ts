/**
 * Codec errors. Decoding failures are source errors (the input is bad), encoding failures sink errors
 * (a record does not fit the output); both name the input or output and, for decoding, the line.
 */
import { SinkError, SourceError } from '@faucet/core';

/** At most this many characters of a bad line are quoted in an error: lines can be megabytes long. */
export const EXCERPT_CHARS = 80;

/**
 * Added to an error about one bad record when records are not being set aside (`skipInvalid`): how a
 * pipeline dead-letters such records and goes on instead of failing.
 */
export function recordErrorHint(skipInvalid: boolean): string {
  return skipInvalid ? '' : ' (to dead-letter bad records and go on, set on_record_error: dlq with a dlq)';
}

export function excerpt(text: string, max = EXCERPT_CHARS): string {
  const flat = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(flat);
}

export interface DecodeErrorOptions {
  /** The file (or input name) being decoded. */
  name: string;
  /** 1-based line where the bad record starts, when known. */
  line?: number;
  /** Byte offset in the input where the bad record starts, when known. */
  offset?: number;
  cause?: unknown;
}

/** The input cannot be decoded: malformed CSV or JSON, a ragged row, invalid UTF-8, … */
export class DecodeError extends SourceError {
  readonly file: string;
  readonly line: number | undefined;
  readonly offset: number | undefined;

  constructor(message: string, options: DecodeErrorOptions) {
    const where = options.line === undefined ? options.name : `${options.name}:${options.line}`;
    super(`${where}: ${message}`, options.cause === undefined ? {} : { cause: options.cause });
    this.file = options.name;
    this.line = options.line;
    this.offset = options.offset;
  }
}

function bytesText(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${bytes} bytes (${mib} MiB)` : `${bytes} bytes`;
}

/**
 * A record over `maxRecordBytes`: names the input, the line and byte offset where the record starts,
 * and the cap. `hint` (a sentence) says what usually causes it in that format.
 */
export function recordTooLarge(options: {
  name: string;
  line: number;
  offset: number;
  cap: number;
  hint: string;
}): DecodeError {
  return new DecodeError(
    `the record starting at byte ${options.offset} is larger than max_record_bytes ` +
      `(${bytesText(options.cap)}). ${options.hint} Raise max_record_bytes if records are meant to be ` +
      'that large.',
    { name: options.name, line: options.line, offset: options.offset },
  );
}

/** A record cannot be encoded in the output format (e.g. a CSV column that is not in the header). */
export class EncodeError extends SinkError {
  readonly file: string;

  constructor(message: string, options: { name: string; cause?: unknown }) {
    super(`${options.name}: ${message}`, options.cause === undefined ? {} : { cause: options.cause });
    this.file = options.name;
  }
}
