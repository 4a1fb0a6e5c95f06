/** `faucet state list|get|set|delete`. */
import type { Command } from 'commander';
import { commands, outputOption, type ProgramContext } from './common.js';

export function addStateCommands(root: Command, { io, run }: ProgramContext): void {
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
}
