/**
 * NDJSON staged on disk for a load job, so a rolling group of pages costs disk, not memory. The
 * SHA-256 of the bytes is kept as they are written: it names the page in its job id.
 */
import { createHash, type Hash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export interface SealedStage {
  path: string;
  rows: number;
  bytes: number;
  /** SHA-256 of the bytes, hex. */
  digest: string;
  /** A fresh stream of the bytes (one per upload attempt). */
  open(): Readable;
  remove(): Promise<void>;
}

export class NdjsonStage {
  readonly path: string;
  rows = 0;
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  private out: WriteStream | undefined;
  private failure: Error | undefined;

  constructor(dir: string | undefined) {
    this.path = join(dir ?? tmpdir(), `faucet-bigquery-${process.pid}-${randomUUID()}.ndjson`);
  }

  /** Append lines (each ending in "\n"); resolves once the stream can take more. */
  async append(text: string, rows: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.out) {
      await mkdir(join(this.path, '..'), { recursive: true });
      this.out = createWriteStream(this.path);
      this.out.on('error', (error) => {
        this.failure = error;
      });
    }
    this.hash.update(text);
    this.rows += rows;
    this.bytes += Buffer.byteLength(text);
    const out = this.out;
    if (!out.write(text)) {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        out.once('error', onError);
        out.once('drain', () => {
          out.off('error', onError);
          resolve();
        });
      });
    }
  }

  /** Close the file; the stage takes no more rows. */
  async seal(): Promise<SealedStage> {
    const out = this.out;
    if (out) {
      await new Promise<void>((resolve, reject) => {
        out.once('error', reject);
        out.end(() => resolve());
      });
    }
    if (this.failure) throw this.failure;
    const path = this.path;
    return {
      path,
      rows: this.rows,
      bytes: this.bytes,
      digest: this.hash.digest('hex'),
      open: () => createReadStream(path),
      remove: () => rm(path, { force: true }),
    };
  }

  /** Drop what was staged (a run that fails never loads it). */
  async discard(): Promise<void> {
    const out = this.out;
    if (out && !out.closed) await new Promise<void>((resolve) => out.end(() => resolve()));
    await rm(this.path, { force: true });
  }
}

/** Stage converted rows (serialised `text`) as NDJSON, a thousand lines per write. */
export async function stageRows(into: NdjsonStage, rows: readonly { text: string }[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    const end = Math.min(rows.length, i + 1000);
    let text = '';
    for (let j = i; j < end; j++) text += `${(rows[j] as { text: string }).text}\n`;
    await into.append(text, end - i);
  }
}

/** A stage of `rows`, sealed; discarded when staging fails. */
export async function sealedStageOf(
  dir: string | undefined,
  rows: readonly { text: string }[],
): Promise<SealedStage> {
  const page = new NdjsonStage(dir);
  try {
    await stageRows(page, rows);
    return await page.seal();
  } catch (error) {
    await page.discard();
    throw error;
  }
}
