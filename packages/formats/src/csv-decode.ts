/**
 * Streaming RFC 4180 CSV decoder: quoted fields with embedded delimiters, newlines and `""` escapes;
 * LF or CRLF line ends; a byte-order mark at the start dropped; a header row (or column_1..N);
 * ragged rows and duplicate headers are errors. Values stay strings unless `typed` is set.
 *
 * Hand-written because it is the hot path of the CSV -> JSONL benchmark: it works on decoded text a
 * chunk at a time, jumps with indexOf inside quoted fields and builds records with one fixed shape
 * (bench/formats.mjs compares it with csv-parse). A record cut by a chunk boundary is held as a list
 * of pieces until a line feed outside quotes arrives (record-feed.ts), then parsed once, whole.
 */
import type { FaucetRecord, JsonValue } from '@faucet/core';
import { ConfigError } from '@faucet/core';
import { createCsvRecordEndScanner } from './csv-record-end.js';
import {
  ByteCounter,
  type DecodedBatch,
  type DecodeOptions,
  type InvalidRecord,
  type ResolvedDecodeOptions,
  resolveDecodeOptions,
} from './decode-common.js';
import { DecodeError, recordErrorHint, recordTooLarge } from './errors.js';
import { type FeedOptions, feedRecords } from './record-feed.js';
import { type ByteInput, textChunks } from './text-chunks.js';

export interface CsvDecodeOptions extends DecodeOptions {
  /** Field separator, one character (default `,`). */
  delimiter?: string;
  /** Quote character, one character (default `"`). */
  quote?: string;
  /** The first record is the header (default true); otherwise columns are column_1..N. */
  hasHeader?: boolean;
  /**
   * The columns, when already known: no header row is read. A file source passes the header it read
   * from the start of the file when it resumes mid-file.
   */
  columns?: readonly string[];
  /**
   * Convert values (default false: every value is a string): integers, floats, `true`/`false`, and
   * an unquoted empty field to null (a quoted empty field `""` stays an empty string). Integers beyond
   * 2^53 stay strings.
   */
  typed?: boolean;
  /**
   * Allow rows whose field count differs from the header (default false: an error naming the line).
   * Missing trailing fields are left out of the record; extra fields are kept as column_<n>.
   */
  flexible?: boolean;
}

const LF = 10;
const CR = 13;

interface CsvSettings extends ResolvedDecodeOptions {
  delimiter: number;
  quote: number;
  quoteChar: string;
  hasHeader: boolean;
  typed: boolean;
  flexible: boolean;
}

function singleChar(value: string | undefined, fallback: string, path: string): string {
  const v = value ?? fallback;
  if (v.length !== 1 || v === '\n' || v === '\r') {
    throw new ConfigError([
      { path, message: `expected one character (not a line break), got ${JSON.stringify(v)}` },
    ]);
  }
  return v;
}

function resolveCsvOptions(options: CsvDecodeOptions): CsvSettings {
  const delimiter = singleChar(options.delimiter, ',', 'delimiter');
  const quote = singleChar(options.quote, '"', 'quote');
  if (delimiter === quote) {
    throw new ConfigError([{ path: 'quote', message: 'the quote character must differ from the delimiter' }]);
  }
  return {
    ...resolveDecodeOptions(options),
    delimiter: delimiter.charCodeAt(0),
    quote: quote.charCodeAt(0),
    quoteChar: quote,
    hasHeader: options.hasHeader ?? true,
    typed: options.typed ?? false,
    flexible: options.flexible ?? false,
  };
}

const INTEGER = /^[-+]?\d+$/;
const FLOAT = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** `typed: true`: what a bare field means. */
export function typedValue(text: string): JsonValue {
  if (text === '') return null;
  const c = text.charCodeAt(0);
  // Only digits, signs and dots can start a number; skip the regexes for everything else.
  if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) {
    if (INTEGER.test(text)) {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    if (FLOAT.test(text)) {
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    return text;
  }
  if (text === 'true') return true;
  if (text === 'false') return false;
  return text;
}

type RecordBuilder = (fields: JsonValue[]) => FaucetRecord;

/**
 * A function building a record from a row's fields with one fixed object shape, so V8 keeps every
 * record on the same hidden class. Keys go in as JSON string literals (safe for any header text);
 * `__proto__` would set the prototype in a literal, so it goes in as a computed key.
 */
function recordBuilder(columns: readonly string[]): RecordBuilder {
  const props = columns.map((column, i) =>
    column === '__proto__' ? `["__proto__"]: f[${i}]` : `${JSON.stringify(column)}: f[${i}]`,
  );
  // The keys are JSON string literals, so no header text can break out of the literal.
  return new Function('f', `return { ${props.join(', ')} };`) as RecordBuilder;
}

/** Check a header row: no duplicates; an empty name becomes column_<n>. */
export function checkHeader(fields: readonly JsonValue[], name: string, line: number): string[] {
  const columns = fields.map((f, i) => (f === '' || f === null ? `column_${i + 1}` : String(f)));
  const seen = new Map<string, number>();
  columns.forEach((column, i) => {
    const earlier = seen.get(column);
    if (earlier !== undefined) {
      throw new DecodeError(
        `duplicate column ${JSON.stringify(column)} in the header (columns ${earlier + 1} and ${i + 1}); ` +
          'rename one, or read the file with has_headers: false',
        { name, line },
      );
    }
    seen.set(column, i);
  });
  return columns;
}

/** Mutable parser state shared between chunks. */
interface CsvState {
  settings: CsvSettings;
  /** Lines before the current position. */
  line: number;
  columns: string[] | undefined;
  build: RecordBuilder | undefined;
  /** Set when the header row was just read. */
  headerEnd: boolean;
  /** With skipInvalid: rows set aside in the current parse, at their position in its text. */
  invalid: { error: DecodeError; raw: string; line: number; start: number }[];
  /** … and with their byte offsets, waiting for the next batch. */
  rejected: InvalidRecord[];
}

/**
 * Thrown by parseRecords for a record over the cap, and turned into the DecodeError by its caller,
 * which knows the byte offset of the text. (Not a callback stored on the long-lived state: a closure
 * over each chunk's text, held from there, kept every chunk alive into the old generation.)
 */
class OverCap {
  constructor(
    readonly start: number,
    readonly line: number,
  ) {}
}

function startHeader(state: CsvState, fields: JsonValue[], line: number): void {
  setColumns(state, checkHeader(fields, state.settings.name, line));
}

function setColumns(state: CsvState, columns: string[]): RecordBuilder {
  const build = recordBuilder(columns);
  state.columns = columns;
  state.build = build;
  return build;
}

function raggedRecord(state: CsvState, fields: JsonValue[], line: number): FaucetRecord {
  const columns = state.columns as string[];
  if (!state.settings.flexible) {
    throw new DecodeError(
      `expected ${columns.length} fields (as in the header), found ${fields.length}; ` +
        `fix the row, or set flexible: true to accept rows of any length${recordErrorHint(state.settings.skipInvalid)}`,
      { name: state.settings.name, line },
    );
  }
  const record: FaucetRecord = {};
  fields.forEach((value, i) => {
    Object.defineProperty(record, columns[i] ?? `column_${i + 1}`, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
  return record;
}

/**
 * Parse whole records from `text` starting at `pos`, appending them to `out` until it holds `limit`
 * records or no complete record is left. Returns the position after the last complete record.
 * Without `final`, a record that reaches the end of `text` is incomplete and left for the next call.
 */
function parseRecords(
  state: CsvState,
  text: string,
  pos: number,
  final: boolean,
  out: FaucetRecord[],
  limit: number,
): number {
  const { delimiter, quote, quoteChar, name } = state.settings;
  // A header row is never converted: its names stay text.
  const typed = state.settings.typed && (state.build !== undefined || !state.settings.hasHeader);
  const len = text.length;
  let line = state.line;
  // One array reused for every row (the builder copies the values out); `n` fields are in use.
  const fields: JsonValue[] = [];
  let n = 0;
  let recordStart = pos;
  let recordLine = line;
  let p = pos;
  while (p < len || (final && n > 0)) {
    if (n === 0) {
      recordStart = p;
      recordLine = line;
      // A blank line is no record.
      const c0 = text.charCodeAt(p);
      if (c0 === LF) {
        p++;
        line++;
        state.line = line;
        pos = p;
        continue;
      }
      if (c0 === CR && p + 1 < len && text.charCodeAt(p + 1) === LF) {
        p += 2;
        line++;
        state.line = line;
        pos = p;
        continue;
      }
      if (c0 === CR && p + 1 === len) {
        if (!final) break;
        p++;
        pos = p;
        continue;
      }
    }
    let value: JsonValue;
    let end: number; // the character after the field: delimiter, CR, LF, or -1 at the end of text
    if (p < len && text.charCodeAt(p) === quote) {
      const open = p;
      let s = p + 1;
      let acc = '';
      let close = -1;
      for (;;) {
        const q = text.indexOf(quoteChar, s);
        if (q === -1) break;
        if (q + 1 === len && !final) break; // the next chunk may start with a second quote
        if (q + 1 < len && text.charCodeAt(q + 1) === quote) {
          // A doubled quote: keep one. Gluing the pieces found on the way measured faster than a
          // replaceAll over the whole field afterwards.
          acc += text.slice(s, q + 1);
          s = q + 2;
          continue;
        }
        close = q;
        break;
      }
      if (close === -1) {
        if (final) {
          throw new DecodeError('a quoted field is not closed before the end of the input', {
            name,
            line: recordLine + 1,
          });
        }
        return incomplete(state, recordStart, recordLine);
      }
      acc = acc === '' ? text.slice(s, close) : acc + text.slice(s, close);
      p = close + 1;
      // Line breaks inside the quotes still count as lines.
      for (let nl = text.indexOf('\n', open); nl !== -1 && nl < p; nl = text.indexOf('\n', nl + 1)) line++;
      value = typed && acc !== '' ? typedValue(acc) : acc;
      end = p < len ? text.charCodeAt(p) : -1;
      if (end !== delimiter && end !== LF && end !== CR && end !== -1) {
        throw new DecodeError(
          `unexpected ${JSON.stringify(text[p])} after a closing quote; a quote inside a quoted field ` +
            'must be doubled',
          { name, line: line + 1 },
        );
      }
    } else {
      const s = p;
      let c = -1;
      while (p < len) {
        c = text.charCodeAt(p);
        if (c === delimiter || c === LF || c === CR) break;
        p++;
      }
      end = p < len ? c : -1;
      value = typed ? typedValue(text.slice(s, p)) : text.slice(s, p);
    }
    if (end === CR) {
      // CR is a line end only before LF; a lone CR belongs to the data.
      if (p + 1 < len && text.charCodeAt(p + 1) === LF) {
        end = LF;
        p++;
      } else if (p + 1 === len && !final) {
        return incomplete(state, recordStart, recordLine);
      } else if (p + 1 === len) {
        end = -1;
        p++;
      } else {
        throw new DecodeError('a carriage return outside quotes must be followed by a line feed', {
          name,
          line: line + 1,
        });
      }
    }
    fields[n++] = value;
    if (end === delimiter) {
      // `a,b,` at the very end of the input still has one more (empty) field: the loop goes on.
      p++;
      continue;
    }
    if (end === -1 && !final) return incomplete(state, recordStart, recordLine);
    // End of the record.
    const contentEnd = end === LF && text.charCodeAt(p - 1) === CR ? p - 1 : p;
    if (overCap(state.settings, text, recordStart, contentEnd)) throw new OverCap(recordStart, recordLine);
    if (end === LF) {
      p++;
      line++;
    }
    if (state.build === undefined && state.settings.hasHeader) {
      startHeader(state, fields.slice(0, n), recordLine + 1);
      state.headerEnd = true;
    } else if (state.build === undefined) {
      const build = setColumns(
        state,
        fields.slice(0, n).map((_, i) => `column_${i + 1}`),
      );
      out.push(build(fields));
    } else if (n === (state.columns as string[]).length) {
      out.push(state.build(fields));
    } else if (state.settings.skipInvalid && !state.settings.flexible) {
      try {
        raggedRecord(state, fields.slice(0, n), recordLine + 1);
      } catch (error) {
        const raw = text.slice(recordStart, contentEnd);
        state.invalid.push({ error: error as DecodeError, raw, line: recordLine + 1, start: recordStart });
      }
    } else {
      out.push(raggedRecord(state, fields.slice(0, n), recordLine + 1));
    }
    n = 0;
    state.line = line;
    pos = p;
    // Rows set aside count toward the batch too, so a file of bad rows stays bounded.
    if (out.length + state.invalid.length + state.rejected.length >= limit || state.headerEnd) return pos;
  }
  // What is left (if anything) is the start of a record that needs more text.
  return pos < len ? incomplete(state, pos, state.line) : pos;
}

/** The record starting at `recordStart` needs more text: hand back its start. */
function incomplete(state: CsvState, recordStart: number, recordLine: number): number {
  state.line = recordLine;
  return recordStart;
}

/** A record of `units` UTF-16 units ending at `end`: over the cap? (Cheap first: a unit is ≤ 3 bytes.) */
function overCap(settings: CsvSettings, text: string, start: number, end: number): boolean {
  const cap = settings.maxRecordBytes;
  return (end - start) * 3 > cap && Buffer.byteLength(text.slice(start, end), settings.encoding) > cap;
}

/** Where a CSV decode is: the byte offset of the first character of the text being parsed. */
interface Position {
  base: number;
}

function newState(settings: CsvSettings, line: number): CsvState {
  return {
    settings,
    line,
    columns: undefined,
    build: undefined,
    headerEnd: false,
    invalid: [],
    rejected: [],
  };
}

/** parseRecords over `text`, whose first character is at byte `base`: an OverCap becomes its DecodeError. */
function parseAt(
  state: CsvState,
  text: string,
  counter: ByteCounter,
  base: number,
  ...args: [pos: number, final: boolean, out: FaucetRecord[], limit: number]
): number {
  try {
    const pos = parseRecords(state, text, ...args);
    // Offsets in the order of the text (the counter only moves forward), before the caller's own.
    for (const { start, ...rest } of state.invalid)
      state.rejected.push({ ...rest, offset: base + counter.at(start) });
    state.invalid = [];
    return pos;
  } catch (error) {
    if (error instanceof OverCap) throw tooLargeAt(state, base + counter.at(error.start), error.line);
    throw error;
  }
}

function tooLargeAt(state: CsvState, offset: number, recordLine: number): Error {
  return recordTooLarge({
    name: state.settings.name,
    line: recordLine + 1,
    offset,
    cap: state.settings.maxRecordBytes,
    hint: 'Is a quote left open?',
  });
}

/** `feedRecords` options for a CSV decode: the pending record starts at `at.base`. */
function feedOptions(state: CsvState, at: Position): FeedOptions {
  const { delimiter, quoteChar, maxRecordBytes } = state.settings;
  return {
    scanner: createCsvRecordEndScanner({ delimiter: String.fromCharCode(delimiter), quote: quoteChar }),
    maxRecordBytes,
    tooLarge: () => tooLargeAt(state, at.base, state.line),
    skipped: (bytes) => {
      at.base += bytes;
    },
  };
}

function textChunksOf(input: ByteInput, settings: CsvSettings, stripBom: boolean) {
  return textChunks(input, {
    encoding: settings.encoding,
    stripBom,
    name: settings.name,
    startOffset: settings.startOffset,
  });
}

/**
 * Decode CSV into batches of records. `input` is a Node Readable or any (async) iterable of Buffers
 * or strings; the first batch comes as soon as `batchSize` records are in, before the input ends.
 */
export async function* decodeCsv(
  input: ByteInput,
  options: CsvDecodeOptions = {},
): AsyncGenerator<DecodedBatch, void, undefined> {
  const settings = resolveCsvOptions(options);
  const at: Position = { base: settings.startOffset };
  const state = newState(settings, settings.startLine);
  if (options.columns) startHeader(state, [...options.columns], settings.startLine);
  let want = settings.nextBatchSize();
  let reported = at.base;
  let batch: FaucetRecord[] = [];
  const parse = function* (text: string, bytes: number, final: boolean) {
    const counter = new ByteCounter(text, bytes);
    let pos = 0;
    for (;;) {
      pos = parseAt(state, text, counter, at.base, pos, final, batch, want);
      if (state.headerEnd) {
        state.headerEnd = false;
        continue;
      }
      if (batch.length + state.rejected.length < want) break;
      const offset = at.base + counter.at(pos);
      reported = offset;
      yield withRejected(state, { records: batch, offset, line: state.line });
      batch = [];
      want = settings.nextBatchSize();
    }
    const consumed = counter.at(pos);
    at.base += consumed;
    return { stop: pos, bytes: consumed };
  };
  const chunks = textChunksOf(input, settings, settings.startOffset === 0);
  yield* feedRecords(chunks, feedOptions(state, at), parse);
  if (batch.length > 0 || state.rejected.length > 0 || at.base !== reported) {
    yield withRejected(state, { records: batch, offset: at.base, line: state.line });
  }
}

/** The batch with the rows set aside since the last one. */
function withRejected(state: CsvState, batch: DecodedBatch): DecodedBatch {
  if (state.rejected.length === 0) return batch;
  batch.rejected = state.rejected;
  state.rejected = [];
  return batch;
}

export interface CsvHeader {
  columns: string[];
  /** Byte offset just past the header row. */
  offset: number;
  /** Lines in the header row (usually 1). */
  line: number;
}

/**
 * Read only the header row (stops reading as soon as it has it), e.g. to resume mid-file or to find
 * the columns of a file a sink appends to. Undefined for an empty input.
 */
export async function readCsvHeader(
  input: ByteInput,
  options: Omit<CsvDecodeOptions, 'columns' | 'hasHeader' | 'startOffset' | 'startLine'> = {},
): Promise<CsvHeader | undefined> {
  const settings = resolveCsvOptions({ ...options, batchSize: 1, startOffset: 0, startLine: 0 });
  const at: Position = { base: 0 };
  const state = newState(settings, 0);
  const sink: FaucetRecord[] = [];
  const parse = function* (text: string, bytes: number, final: boolean) {
    const counter = new ByteCounter(text, bytes);
    const pos = parseAt(state, text, counter, at.base, 0, final, sink, 1);
    const consumed = counter.at(pos);
    if (state.columns) yield { columns: state.columns, offset: at.base + consumed, line: state.line };
    at.base += consumed;
    return { stop: pos, bytes: consumed };
  };
  const headers = feedRecords(textChunksOf(input, settings, true), feedOptions(state, at), parse);
  for await (const header of headers) return header;
  return undefined;
}
