/**
 * The file state store's journal: the puts of one key while a run holds its lock, appended to one
 * file with one fdatasync each, instead of a temp file, an fsync, a rename and a directory fsync per
 * put (measured: a quarter of scenario A's time went there).
 *
 * Layout: a 16-byte header (`faucet-journal1\n`), then records `[u32 length][u32 crc32][payload]`
 * (little-endian; the payload is the value's JSON text), then zero bytes to the end of the file. The
 * file is created at its full size, zeros included, and records are written into it in place: the
 * file's size never changes between two creations, so an fdatasync writes the record's data block
 * and nothing else (no journal commit of the file system). Reading takes the last record whose
 * length and CRC hold; a record torn by a crash fails its CRC and the one before it stands.
 *
 * A journal is only ever created whole — header, first record and zeros written to a temp file,
 * fsynced, renamed over the old journal, directory fsynced — so a journal under its name always
 * holds at least one complete record. Creating one is also how it is compacted: when a record does
 * not fit, a new journal holding just that record replaces the old one.
 */
import type { FileHandle } from 'node:fs/promises';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { errnoCode, fsyncDirectory } from './fs-durable.js';

const MAGIC = Buffer.from('faucet-journal1\n', 'latin1');
const HEADER_BYTES = MAGIC.length;
const RECORD_HEADER_BYTES = 8;
/** The smallest journal: a few hundred puts of a typical bookmark between two compactions. */
export const JOURNAL_MIN_BYTES = 256 * 1024;

/** A journal open for appending. */
export interface OpenJournal {
  /** Append a value's JSON text; fdatasync when durable. Replaces the file when it is full. */
  append(text: string): Promise<void>;
  close(): Promise<void>;
}

export interface JournalPaths {
  dir: string;
  /** The journal's path. */
  path: string;
  /** A fresh temp path beside it, for each creation. */
  tempPath: () => string;
}

/** What reading a journal found. */
export type JournalRead =
  | { state: 'missing' }
  | { state: 'value'; text: string }
  /** The file exists but holds no complete record: faucet did not write it so. */
  | { state: 'corrupt'; reason: string };

function record(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload) >>> 0, 4);
  payload.copy(out, RECORD_HEADER_BYTES);
  return out;
}

/** The last complete record of journal bytes. */
export function lastJournalRecord(bytes: Buffer): JournalRead {
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, HEADER_BYTES).equals(MAGIC)) {
    return { state: 'corrupt', reason: 'it does not start with the journal header' };
  }
  let at = HEADER_BYTES;
  let last: Buffer | undefined;
  while (at + RECORD_HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    if (length === 0 || at + RECORD_HEADER_BYTES + length > bytes.length) break;
    const payload = bytes.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + length);
    if (crc32(payload) >>> 0 !== bytes.readUInt32LE(at + 4)) break;
    last = payload;
    at += RECORD_HEADER_BYTES + length;
  }
  if (last === undefined) return { state: 'corrupt', reason: 'it holds no complete record' };
  return { state: 'value', text: last.toString('utf8') };
}

export async function readJournal(path: string): Promise<JournalRead> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { state: 'missing' };
    throw error;
  }
  return lastJournalRecord(bytes);
}

/** Journal bytes for `first`: the size leaves room for at least three more records like it. */
function freshJournal(first: Buffer): Buffer {
  const wanted = HEADER_BYTES + 4 * first.length;
  const size = Math.max(JOURNAL_MIN_BYTES, Math.ceil(wanted / 4096) * 4096);
  const bytes = Buffer.alloc(size);
  MAGIC.copy(bytes, 0);
  first.copy(bytes, HEADER_BYTES);
  return bytes;
}

/** Write a new journal holding `first` and put it in place; returns its handle, ready to append. */
async function createJournalFile(
  paths: JournalPaths,
  first: Buffer,
  durable: boolean,
): Promise<{ handle: FileHandle; size: number }> {
  const bytes = freshJournal(first);
  const temp = paths.tempPath();
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx+');
    await handle.writeFile(bytes);
    if (durable) await handle.sync();
    await rename(temp, paths.path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  if (durable) await fsyncDirectory(paths.dir);
  return { handle, size: bytes.length };
}

/**
 * Start a journal whose first record is `text` (replacing any journal of the key: this is the
 * compaction on open), and return it ready to append the next puts.
 */
export async function startJournal(
  paths: JournalPaths,
  text: string,
  durable: boolean,
): Promise<OpenJournal> {
  const first = record(text);
  let { handle, size } = await createJournalFile(paths, first, durable);
  let end = HEADER_BYTES + first.length;
  // After a failed write the bytes at `end` are unknown: the next put starts a new journal.
  let broken = false;

  const replace = async (bytes: Buffer): Promise<void> => {
    const created = await createJournalFile(paths, bytes, durable);
    const old = handle;
    ({ handle, size } = created);
    end = HEADER_BYTES + bytes.length;
    broken = false;
    await old.close().catch(() => undefined);
  };

  return {
    async append(next) {
      const bytes = record(next);
      if (broken || end + bytes.length > size) return replace(bytes);
      try {
        let done = 0;
        while (done < bytes.length) {
          const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, end + done);
          done += bytesWritten;
        }
        if (durable) await handle.datasync();
      } catch (error) {
        broken = true;
        throw error;
      }
      end += bytes.length;
    },
    async close() {
      await handle.close();
    },
  };
}
