/**
 * The bytes the file sink holds until its next write: JSON Lines are encoded straight into a reusable
 * buffer, CSV text is appended to it. The buffer is reused, so nothing is encoded into it while a write
 * of its bytes is in flight.
 */
import type { FaucetRecord } from '@faucet/core';
import { type CsvEncoder, createJsonlEncoder, gzipMember, type JsonlEncoder } from '@faucet/formats';
import type { OutputFile } from './output-file.js';

export interface HeldBytes {
  /** The buffer (append a line break with `appendText`; `size` is what it holds). */
  readonly buffer: JsonlEncoder;
  /** Waits for a write of the held bytes that is in flight (callers that do not await each call). */
  settled(): Promise<void>;
  /** Write everything held (one gzip member when compressed). */
  writeHeld(file: OutputFile): Promise<void>;
  /**
   * Encode a batch into the held bytes; once they reach `bufferBytes` they are all written. Plain
   * JSON Lines are written out each time they reach `bufferBytes` while the batch is encoded, so a
   * batch of large records holds about `bufferBytes` (plus one record) encoded, not the whole batch.
   * (Gzip output keeps one member per write of a batch.)
   */
  encodeAndWrite(file: OutputFile, records: FaucetRecord[], csv: CsvEncoder | undefined): Promise<void>;
}

export function createHeldBytes(options: { format: string; gzip: boolean; bufferBytes: number }): HeldBytes {
  const { format, gzip, bufferBytes } = options;
  const buffer = createJsonlEncoder();
  let writing: Promise<void> | undefined;

  const settled = async (): Promise<void> => {
    while (writing) await writing.catch(() => undefined);
  };

  const writeHeld = async (file: OutputFile): Promise<void> => {
    await settled();
    if (buffer.size === 0) return;
    const bytes = buffer.take();
    const done = (async () => file.append(gzip ? await gzipMember(bytes) : bytes))();
    writing = done;
    try {
      await done;
    } finally {
      writing = undefined;
    }
  };

  const encodeAndWrite = async (
    file: OutputFile,
    records: FaucetRecord[],
    csv: CsvEncoder | undefined,
  ): Promise<void> => {
    let full = false;
    if (format !== 'jsonl') buffer.appendText((csv as CsvEncoder).encode(records));
    else if (gzip) buffer.encode(records);
    else {
      let next = buffer.encode(records, 0, bufferBytes);
      while (next < records.length) {
        full = true;
        await writeHeld(file);
        next = buffer.encode(records, next, bufferBytes);
      }
    }
    // As for one encoding of the whole batch: past bufferBytes, everything held is written.
    if (full || buffer.size >= bufferBytes) await writeHeld(file);
  };

  return { buffer, settled, writeHeld, encodeAndWrite };
}
