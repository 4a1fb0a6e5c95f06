/**
 * Decoding `COPY … TO STDOUT` output in text format into rows: one row per line, fields split at tabs,
 * `\N` for NULL, backslash escapes undone, each field through its column's parser. The server escapes
 * every newline, tab and backslash inside a value, so a raw newline always ends a row and a raw tab
 * always ends a field.
 *
 * The work per chunk is linear: bytes after a chunk's last newline wait in a list (never re-scanned)
 * and are joined once with the rest of their row.
 */
import type { ValueParser } from '@faucet/common-postgres';
import type { JsonValue } from '@faucet/core';

const NEWLINE = 0x0a;

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/**
 * A field with its backslash escapes undone: `\n`, `\t`, `\\`…, `\123` (octal) and `\x1f` (hex) as
 * the character of that code; any other escaped character stands for itself.
 */
export function unescapeCopyField(field: string): string {
  let out = '';
  let from = 0;
  let i = field.indexOf('\\');
  while (i >= 0) {
    out += field.slice(from, i);
    const next = field[i + 1];
    if (next === undefined) {
      // A trailing lone backslash: the server never writes one; keep it rather than lose it.
      out += '\\';
      from = i + 1;
      break;
    }
    const simple = SIMPLE_ESCAPES[next];
    const octal = /^[0-7]{1,3}/.exec(field.slice(i + 1, i + 4))?.[0];
    const hex = next === 'x' ? /^[0-9a-fA-F]{1,2}/.exec(field.slice(i + 2, i + 4))?.[0] : undefined;
    if (simple !== undefined) {
      out += simple;
      from = i + 2;
    } else if (octal !== undefined) {
      out += String.fromCharCode(Number.parseInt(octal, 8));
      from = i + 1 + octal.length;
    } else if (hex !== undefined) {
      out += String.fromCharCode(Number.parseInt(hex, 16));
      from = i + 2 + hex.length;
    } else {
      out += next;
      from = i + 2;
    }
    i = field.indexOf('\\', from);
  }
  return out + field.slice(from);
}

export type CopyRow = JsonValue[];

/** Turns the byte chunks of one COPY's output into rows, a chunk at a time. */
export class CopyTextDecoder {
  private pending: Buffer[] = [];
  private readonly parsers: readonly ValueParser[];

  /** One parser per column, in the order of the COPY's columns. */
  constructor(parsers: readonly ValueParser[]) {
    this.parsers = parsers;
  }

  /** The rows completed by `chunk`; bytes of an unfinished row are kept for the next chunk. */
  push(chunk: Buffer): CopyRow[] {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last < 0) {
      if (chunk.length > 0) this.pending.push(chunk);
      return [];
    }
    let text: string;
    if (this.pending.length === 0) {
      text = chunk.toString('utf8', 0, last);
    } else {
      this.pending.push(chunk.subarray(0, last));
      text = Buffer.concat(this.pending).toString('utf8');
      this.pending = [];
    }
    if (last + 1 < chunk.length) this.pending.push(chunk.subarray(last + 1));
    return this.rowsOf(text);
  }

  /** The output has ended: a row left without its newline means the output was cut short. */
  end(): void {
    const left = this.pending.reduce((n, b) => n + b.length, 0);
    if (left > 0) throw new Error(`COPY output ended inside a row (${left} bytes without a line end)`);
  }

  private rowsOf(text: string): CopyRow[] {
    const parsers = this.parsers;
    const width = parsers.length;
    const lines = text.split('\n');
    const rows: CopyRow[] = new Array(lines.length);
    for (let r = 0; r < lines.length; r++) {
      if (width === 0) {
        rows[r] = [];
        continue;
      }
      const fields = (lines[r] as string).split('\t');
      if (fields.length !== width) {
        throw new Error(`COPY output row has ${fields.length} fields where the query has ${width} columns`);
      }
      const row: CopyRow = new Array(width);
      for (let c = 0; c < width; c++) {
        const field = fields[c] as string;
        if (field === '\\N') row[c] = null;
        else row[c] = (parsers[c] as ValueParser)(field.includes('\\') ? unescapeCopyField(field) : field);
      }
      rows[r] = row;
    }
    return rows;
  }
}
