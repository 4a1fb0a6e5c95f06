/**
 * Node 24 lets V8's young generation grow larger than Node 20 did (semi-spaces up to 32 MiB where
 * Node 20 stopped at 16 MiB). A `faucet run` allocates many short-lived objects, so on Node 24 its
 * peak RSS rose from about 120 to 215 MiB for the same file (BENCHMARKS.md, "Node 20, 22 and 24").
 * Memory bounds are part of faucet's promise, so for the commands that move records the CLI
 * re-executes itself in place with Node 20's limit, `--max-semi-space-size=16`: same process id,
 * same stdio and signals (`process.execve`, Node 22.15+ and 23.11+, not on Windows). Setting the flag
 * after start-up (v8.setFlagsFromString) does not resize the heap, hence the re-exec. Node 22 is
 * left alone: the limit changes nothing there (measured), and a re-exec costs a start-up.
 *
 * Nothing happens on Node 20 and 22, when the flag is already given (command line or NODE_OPTIONS),
 * or with FAUCET_V8_DEFAULTS=1.
 */
export const SEMI_SPACE_MB = 16;
/** The first Node major whose young generation outgrows Node 20's (measured on 20, 22 and 24). */
export const FROM_NODE_MAJOR = 24;
const FLAG = '--max-semi-space-size';
/** The commands that move records; the others are short and keep their quick start. */
const RECORD_COMMANDS = new Set(['run', 'preview', 'dlq']);

export interface ProcessFacts {
  argv: readonly string[];
  execArgv: readonly string[];
  env: NodeJS.ProcessEnv;
  nodeVersion: string;
  canExecve: boolean;
}

/** The argv to re-execute with (execPath first), or undefined to go on as is. */
export function youngGenerationReexec(facts: ProcessFacts, execPath: string): string[] | undefined {
  const major = Number(facts.nodeVersion.replace(/^v/, '').split('.')[0]);
  if (!(major >= FROM_NODE_MAJOR) || !facts.canExecve || facts.env.FAUCET_V8_DEFAULTS === '1')
    return undefined;
  const given = (args: readonly string[]) => args.some((a) => a === FLAG || a.startsWith(`${FLAG}=`));
  if (given(facts.execArgv) || given((facts.env.NODE_OPTIONS ?? '').split(/\s+/))) return undefined;
  const command = facts.argv.slice(2).find((a) => !a.startsWith('-'));
  if (command === undefined || !RECORD_COMMANDS.has(command)) return undefined;
  return [execPath, ...facts.execArgv, `${FLAG}=${SEMI_SPACE_MB}`, ...facts.argv.slice(1)];
}

/** Re-execute this process with the young generation capped, when that applies (see above). */
export function capYoungGeneration(): void {
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never })
    .execve;
  const args = youngGenerationReexec(
    {
      argv: process.argv,
      execArgv: process.execArgv,
      env: process.env,
      nodeVersion: process.version,
      canExecve: typeof execve === 'function' && process.platform !== 'win32',
    },
    process.execPath,
  );
  if (args && execve) execve.call(process, process.execPath, args, process.env);
}
