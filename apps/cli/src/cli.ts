/** The `faucet` command line: commands, flags and exit codes (see README.md). */
import type { LogLevel } from '@faucet/core';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { checkCommand } from './commands/check.js';
import { errorText, exitCodeFor, parsePositiveInt } from './commands/common.js';
import { connectorsCommand } from './commands/connectors.js';
import { dlqInspectCommand, dlqReplayCommand } from './commands/dlq.js';
import { type InitOptions, initCommand } from './commands/init.js';
import { previewCommand } from './commands/preview.js';
import { DEFAULT_METRICS_HOST, runCommand } from './commands/run.js';
import { schemaCommand } from './commands/schema.js';
import { stateDeleteCommand, stateGetCommand, stateListCommand, stateSetCommand } from './commands/state.js';
import { validateCommand } from './commands/validate.js';
import { cliPackageDir } from './discovery/index.js';
import { readPackage } from './discovery/manifest.js';
import { type CliIo, ExitCode, processIo, writeLine } from './io.js';

const positiveInt = (flag: string) => (value: string) => {
  try {
    return parsePositiveInt(value, flag);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
};

const port = (value: string): number => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) {
    throw new InvalidArgumentError(`--metrics-port must be a port number from 0 to 65535, got "${value}"`);
  }
  return n;
};

const seconds = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n > 86_400) {
    throw new InvalidArgumentError(`${flag} must be a number of seconds from 0 to 86400, got "${value}"`);
  }
  return n;
};

const outputOption = () =>
  new Option('-o, --output <format>', 'text for people, json for scripts')
    .choices(['text', 'json'])
    .default('text');

function version(): string {
  return readPackage(cliPackageDir())?.version ?? '0.0.0';
}

/** Build the program. Each action stores its exit code in `exit`. */
function program(io: CliIo, exit: { code: number }): Command {
  const run = (fn: () => Promise<number> | number) => async () => {
    exit.code = await fn();
  };
  const root = new Command('faucet')
    .description('Move records from a source to a sink, incrementally and resumably.')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run faucet --help for usage)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();

  root
    .command('run')
    .description('run a pipeline file (default: faucet.yaml or faucet.yml here)')
    .argument('[config]', 'pipeline file')
    .option('--dry-run', 'read and transform, but write nothing and store no state')
    .option(
      '--limit <n>',
      'stop each invocation after n records reach the sink (stores no state)',
      positiveInt('--limit'),
    )
    .addOption(outputOption())
    .option('-q, --quiet', 'no progress display; only warnings, errors and the summary')
    .addOption(
      new Option('--log-level <level>', 'engine and connector messages to show')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics at http://<host>:<port>/metrics while the run lasts (0: any free port)',
      port,
    )
    .option('--metrics-host <host>', `address to serve metrics on (default: ${DEFAULT_METRICS_HOST})`)
    .option(
      '--metrics-linger <seconds>',
      'keep serving metrics this long after the run ends, for a last scrape (default: 0)',
      seconds('--metrics-linger'),
    )
    .action(
      (
        config: string | undefined,
        opts: {
          dryRun?: boolean;
          limit?: number;
          output: 'text' | 'json';
          quiet?: boolean;
          logLevel: LogLevel;
          metricsPort?: number;
          metricsHost?: string;
          metricsLinger?: number;
        },
      ) =>
        run(() =>
          runCommand(
            config,
            {
              output: opts.output,
              logLevel: opts.logLevel,
              ...(opts.dryRun ? { dryRun: true } : {}),
              ...(opts.limit === undefined ? {} : { limit: opts.limit }),
              ...(opts.quiet ? { quiet: true } : {}),
              ...(opts.metricsPort === undefined ? {} : { metricsPort: opts.metricsPort }),
              ...(opts.metricsHost === undefined ? {} : { metricsHost: opts.metricsHost }),
              ...(opts.metricsLinger === undefined ? {} : { metricsLinger: opts.metricsLinger }),
            },
            io,
          ),
        )(),
    );

  root
    .command('validate')
    .description('check a pipeline file and every connector it names; print one line per row')
    .argument('[config]', 'pipeline file')
    .addOption(outputOption())
    .action((config: string | undefined, opts: { output: 'text' | 'json' }) =>
      run(() => validateCommand(config, { output: opts.output }, io))(),
    );

  root
    .command('check')
    .description(
      "check each row's source (reachable, readable; facts such as a CDC slot's lag) and its stored state",
    )
    .argument('[config]', 'pipeline file')
    .addOption(outputOption())
    .action((config: string | undefined, opts: { output: 'text' | 'json' }) =>
      run(() => checkCommand(config, { output: opts.output }, io))(),
    );

  root
    .command('preview')
    .description('print the first records after the transforms as JSON lines (stores nothing)')
    .argument('[config]', 'pipeline file')
    .option('-n, --limit <n>', 'how many records', positiveInt('--limit'), 10)
    .option('--row <id>', 'matrix row to preview (default: the first)')
    .action((config: string | undefined, opts: { limit: number; row?: string }) =>
      run(() =>
        previewCommand(
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
      run(() =>
        connectorsCommand({ output: opts.output, ...(opts.config ? { config: opts.config } : {}) }, io),
      )(),
    );

  root
    .command('schema')
    .description('print a JSON Schema for pipeline files covering the installed connectors')
    .option('-c, --config <file>', "also search from this pipeline file's directory")
    .action((opts: { config?: string }) =>
      run(() => schemaCommand(opts.config ? { config: opts.config } : {}, io))(),
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
      run(() =>
        stateListCommand({ ...pickState(opts), ...(opts.prefix ? { prefix: opts.prefix } : {}) }, io),
      )(),
    );
  stateOptions(state.command('get').description('print the value stored under a key').argument('<key>'))
    .addOption(outputOption())
    .action((key: string, opts: StateOpts) => run(() => stateGetCommand(key, pickState(opts), io))());
  stateOptions(
    state
      .command('set')
      .description('store a value (a bookmark, or an envelope as state get prints it)')
      .argument('<key>')
      .argument('<json>'),
  ).action((key: string, json: string, opts: StateOpts) =>
    run(() => stateSetCommand(key, json, pickState(opts), io))(),
  );
  stateOptions(
    state
      .command('delete')
      .description('delete a key: its next run starts from the beginning')
      .argument('<key>'),
  ).action((key: string, opts: StateOpts) => run(() => stateDeleteCommand(key, pickState(opts), io))());

  const dlq = root.command('dlq').description('look at and replay dead-lettered records');
  dlq
    .command('inspect')
    .description('summarise the DLQ file by error kind')
    .argument('[config]', 'pipeline file')
    .option('-n, --limit <n>', 'also print the first n envelopes', positiveInt('--limit'), 5)
    .option('--row <id>', 'only the DLQ of this row')
    .addOption(outputOption())
    .action((config: string | undefined, opts: { limit: number; row?: string; output: 'text' | 'json' }) =>
      run(() =>
        dlqInspectCommand(
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
      run(() =>
        dlqReplayCommand(config, { output: opts.output, ...(opts.row ? { row: opts.row } : {}) }, io),
      )(),
    );

  root
    .command('init')
    .description('write a commented starter pipeline file (never overwrites)')
    .argument('[file]', 'where to write it', 'faucet.yaml')
    .option('--name <name>', 'pipeline name (default: from the file name)')
    .option('--template <template>', 'file (CSV to JSON lines) or kafka (a topic to JSON lines)', 'file')
    .action((file: string, opts: InitOptions) => run(() => initCommand(file, opts, io))());

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
    writeLine(io.stderr, errorText(error));
    return exitCodeFor(error);
  }
}
