/**
 * How far the CLI lets V8's heap grow between full collections. V8 lets the old generation grow to
 * up to 4× what survived the last full GC before it collects again (its factor on machines with more
 * than about 2 GiB), which suits a browser tab, not a data mover whose live heap is small and steady
 * while it allocates and drops a page of records every few milliseconds. What piles up is garbage
 * V8 places straight into the old generation: JSON.parse interns every string value of up to 10
 * characters (ids, codes, short names), and an interned string lives in the old generation with an
 * entry in V8's string table, which is allocated outside the JS heap and not counted by V8's GC
 * heuristics. Reading 1.1M JSON lines with a short unique `name` peaked 60–80 MiB above reading the
 * same bytes with 11-character names; with a growth of 50% it stays within ~30 MiB, at a few percent
 * more GC time (BENCHMARKS.md, "One 2 GiB object").
 *
 * `FAUCET_HEAP_GROWING_PERCENT` changes the percentage (`0`: V8's own policy); a
 * `--heap-growing-percent` given to node itself wins.
 */
import { setFlagsFromString } from 'node:v8';

export const DEFAULT_HEAP_GROWING_PERCENT = 50;

/** The percentage to set, or undefined to leave V8's policy alone. */
export function heapGrowingPercent(
  execArgv: readonly string[] = process.execArgv,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return undefined;
  const raw = env.FAUCET_HEAP_GROWING_PERCENT?.trim();
  if (raw === undefined || raw === '') return DEFAULT_HEAP_GROWING_PERCENT;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0 || value > 1000) return DEFAULT_HEAP_GROWING_PERCENT;
  return value === 0 ? undefined : value;
}

/** Apply the policy to this process (read by V8 at every full GC, so setting it at start-up is enough). */
export function boundHeapGrowth(): void {
  const percent = heapGrowingPercent();
  if (percent !== undefined) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
