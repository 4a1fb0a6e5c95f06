/** Commands that look at a pipeline file without moving records: validate, check, preview, connectors, schema, init. */
import type { Command } from 'commander';
import type { InitOptions } from '../commands/init.js';
import { positiveInt } from '../flags.js';
import { commands, outputOption, type ProgramContext } from './common.js';

export function addPipelineFileCommands(root: Command, { io, run }: ProgramContext): void {
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

  root
    .command('init')
    .description('write a commented starter pipeline file (never overwrites)')
    .argument('[file]', 'where to write it', 'faucet.yaml')
    .option('--name <name>', 'pipeline name (default: from the file name)')
    .option('--template <template>', 'file (CSV to JSON lines) or kafka (a topic to JSON lines)', 'file')
    .action((file: string, opts: InitOptions) =>
      run(async () => (await commands.init()).initCommand(file, opts, io))(),
    );
}
