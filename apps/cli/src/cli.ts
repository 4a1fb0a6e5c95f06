/** The `faucet` command line: commands, flags and exit codes (see README.md). */
import { Command, CommanderError } from 'commander';
import { cliVersion } from './cli-package.js';
import type { InitOptions } from './commands/init.js';
import { positiveInt } from './flags.js';
import { type CliIo, ExitCode, processIo, writeLine } from './io.js';
import { addQueueCommands, outputOption } from './queue-commands.js';
import { addRunCommand } from './run-command.js';

/**
 * Each command is imported when it runs: `faucet --version` or `--help` loads neither @faucet/core
 * nor any connector, and a command loads only what it uses (bench/cli-startup.mjs measures it).
 */
const commands = {
  check: () => import('./commands/check.js'),
  connectors: () => import('./commands/connectors.js'),
  dlq: () => import('./commands/dlq.js'),
  init: () => import('./commands/init.js'),
  preview: () => import('./commands/preview.js'),
  schema: () => import('./commands/schema.js'),
  state: () => import('./commands/state.js'),
  validate: () => import('./commands/validate.js'),
};

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

  addRunCommand(root, run, io);

  addQueueCommands(root, run, io);

  root
    .command('validate')
    .description('check a pipeline file and every connector it names; print one line per row')
    .argument('[config]', 'pipeline file')
    .addOption(outputOption())
    .action((config: string | undefined, opts: { output: 'text' | 'json' }) =>
      run(async () => (await commands.validate()).validateCommand(config, { output: opts.output }, io))(),
    );

  root
    .command('check')
    .description(
      "check each row's source (reachable, readable; facts such as a CDC slot's lag) and its stored state",
    )
    .argument('[config]', 'pipeline file')
    .addOption(outputOption())
    .action((config: string | undefined, opts: { output: 'text' | 'json' }) =>
      run(async () => (await commands.check()).checkCommand(config, { output: opts.output }, io))(),
    );

  root
    .command('preview')
    .description('print the first records after the transforms as JSON lines (stores nothing)')
    .argument('[config]', 'pipeline file')
    .option('-n, --limit <n>', 'how many records', positiveInt('--limit'), 10)
    .option('--row <id>', 'matrix row to preview (default: the first)')
    .action((config: string | undefined, opts: { limit: number; row?: string }) =>
      run(async () =>
        (await commands.preview()).previewCommand(
          config,
          { limit: opts.limit, ...(opts.row === undefined ? {} : { row: opts.row }) },
          io,
        ),
      )(),
    );

  root
    .command('connectors')
    .description('list the installed sources, sinks and state stores (without loading them)')
    .option('-c, --config <file>', "also search from this pipeline file's directory")
    .addOption(outputOption())
    .action((opts: { config?: string; output: 'text' | 'json' }) =>
      run(async () =>
        (await commands.connectors()).connectorsCommand(
          { output: opts.output, ...(opts.config ? { config: opts.config } : {}) },
          io,
        ),
      )(),
    );

  root
    .command('schema')
    .description('print a JSON Schema for pipeline files covering the installed connectors')
    .option('-c, --config <file>', "also search from this pipeline file's directory")
    .action((opts: { config?: string }) =>
      run(async () =>
        (await commands.schema()).schemaCommand(opts.config ? { config: opts.config } : {}, io),
      )(),
    );

  const state = root.command('state').description('read and change stored bookmarks');
  const stateOptions = (cmd: Command) =>
    cmd
      .option('-c, --config <file>', 'pipeline file (default: faucet.yaml or faucet.yml here)')
      .option('--row <id>', "use this row's state store when rows use different ones");
  type StateOpts = { config?: string; row?: string; output?: 'text' | 'json' };
  const pickState = (opts: StateOpts) => ({
    ...(opts.config ? { config: opts.config } : {}),
    ...(opts.row ? { row: opts.row } : {}),
    ...(opts.output ? { output: opts.output } : {}),
  });
  stateOptions(state.command('list').description('list state keys'))
    .option('--prefix <prefix>', 'only keys starting with this')
    .addOption(outputOption())
    .action((opts: StateOpts & { prefix?: string }) =>
      run(async () =>
        (await commands.state()).stateListCommand(
          { ...pickState(opts), ...(opts.prefix ? { prefix: opts.prefix } : {}) },
          io,
        ),
      )(),
    );
  stateOptions(state.command('get').description('print the value stored under a key').argument('<key>'))
    .addOption(outputOption())
    .action((key: string, opts: StateOpts) =>
      run(async () => (await commands.state()).stateGetCommand(key, pickState(opts), io))(),
    );
  stateOptions(
    state
      .command('set')
      .description('store a value (a bookmark, or an envelope as state get prints it)')
      .argument('<key>')
      .argument('<json>'),
  ).action((key: string, json: string, opts: StateOpts) =>
    run(async () => (await commands.state()).stateSetCommand(key, json, pickState(opts), io))(),
  );
  stateOptions(
    state
      .command('delete')
      .description('delete a key: its next run starts from the beginning')
      .argument('<key>'),
  ).action((key: string, opts: StateOpts) =>
    run(async () => (await commands.state()).stateDeleteCommand(key, pickState(opts), io))(),
  );

  const dlq = root.command('dlq').description('look at and replay dead-lettered records');
  dlq
    .command('inspect')
    .description('summarise the DLQ file by error kind')
    .argument('[config]', 'pipeline file')
    .option('-n, --limit <n>', 'also print the first n envelopes', positiveInt('--limit'), 5)
    .option('--row <id>', 'only the DLQ of this row')
    .addOption(outputOption())
    .action((config: string | undefined, opts: { limit: number; row?: string; output: 'text' | 'json' }) =>
      run(async () =>
        (await commands.dlq()).dlqInspectCommand(
          config,
          { limit: opts.limit, output: opts.output, ...(opts.row ? { row: opts.row } : {}) },
          io,
        ),
      )(),
    );
  dlq
    .command('replay')
    .description(
      'send dead-lettered payloads back to the main sink; failures go to <dlq>.replay-failed.jsonl',
    )
    .argument('[config]', 'pipeline file')
    .option('--row <id>', 'only the DLQ of this row')
    .addOption(outputOption())
    .action((config: string | undefined, opts: { row?: string; output: 'text' | 'json' }) =>
      run(async () =>
        (await commands.dlq()).dlqReplayCommand(
          config,
          { output: opts.output, ...(opts.row ? { row: opts.row } : {}) },
          io,
        ),
      )(),
    );

  root
    .command('init')
    .description('write a commented starter pipeline file (never overwrites)')
    .argument('[file]', 'where to write it', 'faucet.yaml')
    .option('--name <name>', 'pipeline name (default: from the file name)')
    .option('--template <template>', 'file (CSV to JSON lines) or kafka (a topic to JSON lines)', 'file')
    .action((file: string, opts: InitOptions) =>
      run(async () => (await commands.init()).initCommand(file, opts, io))(),
    );

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
