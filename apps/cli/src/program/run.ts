/**
 * `faucet run`: its flags, and the choice between a local run and a run on a queue (`--queue`),
 * each imported only when it runs.
 */
import type { LogLevel } from '@faucet/core';
import { type Command, Option } from 'commander';
import { DEFAULT_METRICS_HOST, port, positiveInt, queueFlagProblem, seconds } from '../flags.js';
import { ExitCode, writeLine } from '../io.js';
import { commands, outputOption, type ProgramContext } from './common.js';

export function addRunCommand(root: Command, { io, run }: ProgramContext): void {
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
    .option(
      '--queue <url>',
      'run on many machines: submit each invocation as a job to this Redis (redis://host:port)',
    )
    .option('--queue-name <name>', 'the BullMQ queue (default: faucet); workers must use the same')
    .option('--detach', 'with --queue: print the run id and return without waiting for the jobs')
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
          queue?: string;
          queueName?: string;
          detach?: boolean;
        },
      ) =>
        run(async () => {
          const problem = queueFlagProblem(opts);
          if (problem) {
            writeLine(io.stderr, `faucet: ${problem}`);
            return ExitCode.config;
          }
          if (opts.queue !== undefined) {
            return (await commands.runQueued()).runQueuedCommand(
              config,
              {
                queue: opts.queue,
                output: opts.output,
                ...(opts.queueName === undefined ? {} : { queueName: opts.queueName }),
                ...(opts.detach ? { detach: true } : {}),
                ...(opts.quiet ? { quiet: true } : {}),
              },
              io,
            );
          }
          return (await commands.run()).runCommand(
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
          );
        })(),
    );
}
