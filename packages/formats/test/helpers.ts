import type { FaucetRecord } from '@faucet/core';
import type { DecodedBatch } from '../src/index.js';

export async function collect(batches: AsyncIterable<DecodedBatch>): Promise<DecodedBatch[]> {
  const out: DecodedBatch[] = [];
  for await (const batch of batches) out.push(batch);
  return out;
}

export async function records(batches: AsyncIterable<DecodedBatch>): Promise<FaucetRecord[]> {
  return (await collect(batches)).flatMap((b) => b.records);
}

/** `text` as UTF-8 bytes cut into pieces of `size` bytes (1: one byte at a time, splitting characters). */
export function pieces(text: string | Buffer, size: number): Buffer[] {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

/** The same bytes cut at seeded pseudo-random places. */
export function randomPieces(text: string, seed: number): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  let a = seed >>> 0;
  const random = () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 4294967296;
  };
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + Math.floor(random() * 7);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** Chunks of `first`, then an input that never ends (a pipe nobody closes). */
export async function* neverEnding(first: Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of first) yield chunk;
  await new Promise<never>(() => {});
}

export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no result within ${ms} ms`)), ms)),
  ]);
}
