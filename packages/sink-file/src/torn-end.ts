/**
 * Finding where the complete records of an output end, when its end may be torn: a write that a
 * crash or a power loss interrupted left the start of a record (or of a gzip member) without its
 * end. Such bytes were never flushed, so no stored checkpoint covers them and cutting them loses
 * nothing; a complete record is never cut.
 *
 * - JSON Lines: the bytes after the last line break, when they are not a JSON object. Every line the
 *   sink writes is an object, and no strict prefix of an object is valid JSON, so this needs no
 *   mark; a complete object that only lacks its line break (a file written by hand) is kept.
 * - CSV: the complete records are found by reading forward from the flush mark (a line break inside
 *   quotes does not end a record). Without a valid mark a CSV file is left as it is.
 * - gzip: the members after the flush mark are walked one by one; the first that does not inflate
 *   whole, with its trailer, is where the torn end starts.
 */
import type { FileHandle } from 'node:fs/promises';
import { crc32, inflateRawSync } from 'node:zlib';
import { completeCsvRecordsLength } from '@faucet/formats';

const BLOCK = 64 * 1024;

/** The bytes of `file` from `from` to `to`, in blocks. */
async function* readRange(file: FileHandle, from: number, to: number): AsyncGenerator<Buffer> {
  for (let at = from; at < to; ) {
    const buf = Buffer.alloc(Math.min(BLOCK, to - at));
    const { bytesRead } = await file.read(buf, 0, buf.length, at);
    if (bytesRead === 0) return;
    yield buf.subarray(0, bytesRead);
    at += bytesRead;
  }
}

async function readAll(file: FileHandle, from: number, to: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of readRange(file, from, to)) parts.push(part);
  return Buffer.concat(parts);
}

/** Offset just past the last line feed before `size` (searching back no further than `floor`), or -1. */
async function afterLastLineFeed(file: FileHandle, floor: number, size: number): Promise<number> {
  for (let end = size; end > floor; ) {
    const start = Math.max(floor, end - BLOCK);
    const buf = Buffer.alloc(end - start);
    await file.read(buf, 0, buf.length, start);
    const at = buf.lastIndexOf(0x0a);
    if (at !== -1) return start + at + 1;
    end = start;
  }
  return -1;
}

function isJsonObject(bytes: Buffer): boolean {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** JSON Lines: where the complete lines end (the whole file when it ends with an object). */
export async function jsonlCompleteEnd(file: FileHandle, size: number): Promise<number> {
  const start = Math.max(0, await afterLastLineFeed(file, 0, size));
  if (start === size) return size;
  return isJsonObject(await readAll(file, start, size)) ? size : start;
}

/** CSV: where the complete records after `from` (a record end) end. */
export async function csvCompleteEnd(
  file: FileHandle,
  from: number,
  size: number,
  delimiter: string,
): Promise<number> {
  return from + (await completeCsvRecordsLength(readRange(file, from, size), { delimiter, quote: '"' }));
}

/** Length of the complete gzip members at the start of `data`. */
export function completeGzipMembersLength(data: Buffer): number {
  let at = 0;
  while (at < data.length) {
    const end = gzipMemberEnd(data, at);
    if (end === -1) break;
    at = end;
  }
  return at;
}

/** The end of the gzip member starting at `at`, or -1 when it is not whole. */
function gzipMemberEnd(data: Buffer, at: number): number {
  if (data.length - at < 18 || data[at] !== 0x1f || data[at + 1] !== 0x8b || data[at + 2] !== 8) return -1;
  const flags = data[at + 3] as number;
  let p = at + 10;
  if (flags & 4) p += 2 + data.readUInt16LE(p); // FEXTRA
  for (const flag of [8, 16]) {
    // FNAME, FCOMMENT: zero-terminated
    if (flags & flag) {
      const zero = data.indexOf(0, p);
      if (zero === -1) return -1;
      p = zero + 1;
    }
  }
  if (flags & 2) p += 2; // FHCRC
  if (p >= data.length) return -1;
  let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    inflated = inflateRawSync(data.subarray(p), { info: true }) as unknown as typeof inflated;
  } catch {
    return -1; // cut short, or not deflate data
  }
  const trailer = p + inflated.engine.bytesWritten;
  if (trailer + 8 > data.length) return -1;
  if (data.readUInt32LE(trailer) !== crc32(inflated.buffer) >>> 0) return -1;
  if (data.readUInt32LE(trailer + 4) !== inflated.buffer.length % 2 ** 32) return -1;
  return trailer + 8;
}

/** gzip: where the complete members after `from` (a member start) end. */
export async function gzipCompleteEnd(file: FileHandle, from: number, size: number): Promise<number> {
  return from + completeGzipMembersLength(await readAll(file, from, size));
}
