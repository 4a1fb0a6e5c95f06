import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaucetRecord, JsonObject, JsonValue, Logger, Page } from '@faucet/core';
import { afterEach, beforeEach } from 'vitest';
import { createFileSource, type FileSourceConfigInput, fileSourceConfigSchema } from '../src/index.js';

export interface LogLine {
  level: string;
  message: string;
  fields?: JsonObject | undefined;
}

export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = (level: string) => (message: string, fields?: JsonObject) => {
    lines.push({ level, message, fields });
  };
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export function fileSource(config: FileSourceConfigInput) {
  return createFileSource(fileSourceConfigSchema.parse(config));
}

export async function readPages(
  source: ReturnType<typeof fileSource>,
  options: { bookmark?: JsonValue | undefined; batchSize?: number; logger?: Logger; maxPages?: number } = {},
): Promise<Page[]> {
  const pages: Page[] = [];
  const logger = options.logger ?? recordingLogger();
  for await (const page of source.read({
    bookmark: options.bookmark,
    batchSize: options.batchSize ?? 10,
    signal: new AbortController().signal,
    logger,
  })) {
    pages.push(page);
    if (options.maxPages !== undefined && pages.length >= options.maxPages) break;
  }
  return pages;
}

export const recordsOf = (pages: readonly Page[]): FaucetRecord[] => pages.flatMap((p) => p.records);
export const lastBookmark = (pages: readonly Page[]): JsonValue | undefined =>
  [...pages].reverse().find((p) => p.bookmark !== undefined)?.bookmark;

/** A fresh temporary directory per test, as the working directory (globs are relative to it). */
export function useTempDir(): { readonly dir: string } {
  const holder = { dir: '' };
  let previous = '';
  beforeEach(async () => {
    holder.dir = await mkdtemp(join(tmpdir(), 'faucet-source-file-'));
    previous = process.cwd();
    process.chdir(holder.dir);
  });
  afterEach(async () => {
    process.chdir(previous);
    await rm(holder.dir, { recursive: true, force: true });
  });
  return holder;
}

export function csvRows(from: number, to: number, header = true): string {
  let out = header ? 'id,name,updated_at\n' : '';
  for (let i = from; i <= to; i++) out += `${i},name ${i},2024-01-${String((i % 28) + 1).padStart(2, '0')}\n`;
  return out;
}

export function jsonlRows(from: number, to: number): string {
  let out = '';
  for (let i = from; i <= to; i++) out += `${JSON.stringify({ id: i, v: `r${i}` })}\n`;
  return out;
}

export const ids = (records: readonly FaucetRecord[]): number[] => records.map((r) => Number(r.id));

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
