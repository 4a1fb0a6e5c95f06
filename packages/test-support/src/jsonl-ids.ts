/**
 * What a JSON Lines output holds after crashes: each id's count, the lines a kill tore (written but
 * never flushed and checkpointed: not records), and the ids of a range that are missing. Crash
 * tests of file-writing runs assert "nothing lost, duplicates bounded" from it.
 */
import { readFileSync } from 'node:fs';

export interface JsonlIdTally {
  /** Non-empty lines in the file. */
  lines: number;
  /** Lines that are not JSON (at most one per kill: a line cut short). */
  torn: number;
  /** How often each id occurs among the parsed records. */
  counts: Map<number, number>;
  /** Parsed records minus distinct ids. */
  duplicates: number;
}

/** Tally the numeric `field` (default `id`) of every record of a JSON Lines file. */
export function tallyJsonlIds(file: string, field = 'id'): JsonlIdTally {
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const counts = new Map<number, number>();
  let parsed = 0;
  for (const line of lines) {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    parsed++;
    const id = Number(record[field]);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return { lines: lines.length, torn: lines.length - parsed, counts, duplicates: parsed - counts.size };
}

/** The ids from..to (inclusive) a tally does not hold, at most `limit` of them. */
export function missingIds(tally: JsonlIdTally, from: number, to: number, limit = 10): number[] {
  const missing: number[] = [];
  for (let id = from; id <= to && missing.length < limit; id++) if (!tally.counts.has(id)) missing.push(id);
  return missing;
}
