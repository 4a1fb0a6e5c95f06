/** The `faucet` command line: commands, flags and exit codes (see README.md). */
import { Command, CommanderError } from 'commander';
import { cliVersion } from './cli-package.js';
import { type CliIo, ExitCode, processIo, writeLine } from './io.js';
import { addDlqCommands } from './program/dlq.js';
import { addPipelineFileCommands } from './program/pipeline-file.js';
import { addQueueCommands } from './program/queue.js';
import { addRunCommand } from './program/run.js';
import { addStateCommands } from './program/state.js';

/** Build the program. Each action stores its exit code in `exit`. */
function program(io: CliIo, exit: { code: number }): Command {
  const run = (fn: () => Promise<number> | number) => async () => {
    exit.code = await fn();
  };
  const root = new Command('faucet')
    .description('Move records from a source to a sink, incrementally and resumably.')
    .version(cliVersion(), '-V, --version')
    .showHelpAfterError('(run faucet --help for usage)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();
  const ctx = { io, run };
  addRunCommand(root, ctx);
  addPipelineFileCommands(root, ctx);
  addStateCommands(root, ctx);
  addDlqCommands(root, ctx);
  addQueueCommands(root, ctx);
  return root;
}

/** Run the CLI with `argv` (as process.argv: node, script, ...args). Resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const exit = { code: ExitCode.ok as number };
  try {
    await program(io, exit).parseAsync([...argv]);
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.config;
    }
    const { errorText, exitCodeFor, wasReported } = await import('./commands/common.js');
    if (!wasReported(error)) writeLine(io.stderr, errorText(error));
    return exitCodeFor(error);
  }
}
