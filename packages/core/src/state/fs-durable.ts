/** Small file-system helpers the file state store and its lock share. */
import { randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import process from 'node:process';

export function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** 16 hex characters, for temp-file names no other writer will pick. */
export function randomSuffix(): string {
  return randomBytes(8).toString('hex');
}

/**
 * fsync a directory, which is what makes a rename, create or unlink in it survive a power loss.
 * Windows cannot open a directory for this and journals metadata itself, so it is skipped there.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Create `dir` and its missing parents. With `durable`, fsync the parent of every directory created,
 * or a power loss could forget the directory together with the first value written into it.
 */
export async function ensureDirectory(dir: string, durable: boolean): Promise<void> {
  const firstCreated = await mkdir(dir, { recursive: true });
  if (!durable || firstCreated === undefined) return;
  let current = dir;
  for (;;) {
    await fsyncDirectory(dirname(current));
    if (current === firstCreated) return;
    const parent = dirname(current);
    if (parent === current) return;
    current = parent;
  }
}
