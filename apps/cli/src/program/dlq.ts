/** `faucet dlq inspect|replay`. */
import type { Command } from 'commander';
import { positiveInt } from '../flags.js';
import { commands, outputOption, type ProgramContext } from './common.js';

export function addDlqCommands(root: Command, { io, run }: ProgramContext): void {
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
}
