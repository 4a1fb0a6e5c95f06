/**
 * How far V8's young generation may grow during the commands that move records. A `faucet run`
 * allocates many short-lived objects, and V8 grows the young generation (two semi-spaces) for as
 * long as objects survive its scavenges, up to its maximum: 16 MiB semi-spaces on Node 20 and 22,
 * 32 MiB on Node 24. That is memory the run does not need: the records alive at once are a page or
 * two. Memory bounds are part of faucet's promise (BENCHMARKS.md, "Node 20, 22 and 24" and
 * "Start-up and memory"), so:
 *
 * - Node 24+: the CLI re-executes itself in place with Node 20's limit, `--max-semi-space-size=16`:
 *   same process id, same stdio and signals (`process.execve`, Node 22.15+ and 23.11+, not on
 *   Windows). Setting that flag after start-up (v8.setFlagsFromString) does not resize the heap,
 *   hence the re-exec; without it peak RSS rose from about 120 to 215 MiB for the same file.
 * - Everywhere else (Node 20, which cannot re-execute in place; Node 22, where a re-exec with 16 MiB
 *   changed nothing; Windows): the young generation stops growing once its semi-spaces reach 8 MiB. V8 grows them by `--semi-space-growth-factor` (2)
 *   after a scavenge, reading that flag each time, so the CLI watches garbage collections and sets
 *   the factor to 1 while the young generation is at the cap (back to 2 should V8 shrink it). Scenario
 *   A at 1M rows on Node 20: peak RSS 103–108 → 88–90 MiB, CPU within a few percent.
 *
 * Nothing happens for the short commands, when a semi-space flag is already given (command line or
 * NODE_OPTIONS), or with FAUCET_V8_DEFAULTS=1.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

export const SEMI_SPACE_MB = 16;
/** The first Node major whose young generation outgrows Node 20's (measured on 20, 22 and 24). */
export const FROM_NODE_MAJOR = 24;
/** The semi-space size (MiB) at which Node 20 and 22 stop growing the young generation. */
export const GROWTH_CAP_SEMI_SPACE_MB = 8;
/** V8's own `--semi-space-growth-factor` (V8 11 to 13: Node 20 to 24). */
const V8_GROWTH_FACTOR = 2;
const FLAG = '--max-semi-space-size';
/** Any flag that sets the young generation's size or growth: the user's choice wins. */
const SEMI_SPACE_FLAG = /^--((max|min)[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor)\b/;
/** The commands that move records; the others are short and keep their quick start. */
const RECORD_COMMANDS = new Set(['run', 'preview', 'dlq']);

export interface ProcessFacts {
  argv: readonly string[];
  execArgv: readonly string[];
  env: NodeJS.ProcessEnv;
  nodeVersion: string;
  canExecve: boolean;
}

/** A command that moves records, no semi-space flag given and no FAUCET_V8_DEFAULTS=1. */
function mayTune(facts: ProcessFacts): boolean {
  if (facts.env.FAUCET_V8_DEFAULTS === '1') return false;
  const given = (args: readonly string[]) => args.some((a) => SEMI_SPACE_FLAG.test(a));
  if (given(facts.execArgv) || given((facts.env.NODE_OPTIONS ?? '').split(/\s+/))) return false;
  const command = facts.argv.slice(2).find((a) => !a.startsWith('-'));
  return command !== undefined && RECORD_COMMANDS.has(command);
}

const reexecApplies = (facts: ProcessFacts) => {
  const major = Number(facts.nodeVersion.replace(/^v/, '').split('.')[0]);
  return major >= FROM_NODE_MAJOR && facts.canExecve;
};

/** The argv to re-execute with (execPath first), or undefined to go on as is. */
export function youngGenerationReexec(facts: ProcessFacts, execPath: string): string[] | undefined {
  if (!reexecApplies(facts) || !mayTune(facts)) return undefined;
  return [execPath, ...facts.execArgv, `${FLAG}=${SEMI_SPACE_MB}`, ...facts.argv.slice(1)];
}

/** The semi-space size (MiB) to stop the young generation's growth at, or undefined to leave it. */
export function youngGenerationGrowthCap(facts: ProcessFacts): number | undefined {
  return !reexecApplies(facts) && mayTune(facts) ? GROWTH_CAP_SEMI_SPACE_MB : undefined;
}

/**
 * Stop V8 growing the young generation past `semiSpaceMb` semi-spaces: after each garbage
 * collection, the growth factor is 1 while the young generation is at the cap, V8's 2 below it.
 * The observer does not keep the process alive; a failure here never fails a run.
 */
export function stopYoungGenerationGrowth(semiSpaceMb: number): void {
  const cap = 2 * semiSpaceMb * 1024 * 1024; // new_space's size counts both semi-spaces
  let stopped = false;
  const observer = new PerformanceObserver(() => {
    try {
      const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
      const atCap = newSpace !== undefined && newSpace.space_size >= cap;
      if (atCap === stopped) return;
      stopped = atCap;
      setFlagsFromString(`--semi-space-growth-factor=${atCap ? 1 : V8_GROWTH_FACTOR}`);
    } catch {
      observer.disconnect();
    }
  });
  observer.observe({ entryTypes: ['gc'] });
}

/** Re-execute with the young generation capped, or stop its growth, when that applies (see above). */
export function capYoungGeneration(): void {
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never })
    .execve;
  const facts: ProcessFacts = {
    argv: process.argv,
    execArgv: process.execArgv,
    env: process.env,
    nodeVersion: process.version,
    canExecve: typeof execve === 'function' && process.platform !== 'win32',
  };
  const args = youngGenerationReexec(facts, process.execPath);
  if (args && execve) execve.call(process, process.execPath, args, process.env);
  const cap = youngGenerationGrowthCap(facts);
  if (cap !== undefined) stopYoungGenerationGrowth(cap);
}
