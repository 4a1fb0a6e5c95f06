/**
 * The commands of runs on a queue (`faucet worker`, `faucet runs list|show|cancel`, `faucet dashboard`): registered
 * here, each imported only when it runs (with @faucet/runner-bullmq behind it).
 */
import type { LogLevel } from '@faucet/core';
import { type Command, Option } from 'commander';
import { DEFAULT_DASHBOARD_PORT, portOf, positiveInt } from '../flags.js';
import { commands, outputOption, type ProgramContext } from './common.js';

export function addQueueCommands(root: Command, { io, run }: ProgramContext): void {
  const runs = root.command('runs').description('runs submitted with faucet run --queue');
  const runsOptions = (cmd: Command) =>
    cmd
      .requiredOption('--queue <url>', 'the Redis of the queue (redis://host:port)')
      .option('--queue-name <name>', 'the BullMQ queue (default: faucet)')
      .addOption(outputOption());
  type RunsFlags = { queue: string; queueName?: string; output: 'text' | 'json' };
  const runsFlags = (opts: RunsFlags) => ({
    queue: opts.queue,
    output: opts.output,
    ...(opts.queueName === undefined ? {} : { queueName: opts.queueName }),
  });
  runsOptions(runs.command('list').description('list the runs kept on the queue (a week)')).action(
    (opts: RunsFlags) => run(async () => (await commands.runs()).runsListCommand(runsFlags(opts), io))(),
  );
  runsOptions(runs.command('show').description('where each job of a run stands').argument('<run-id>')).action(
    (runId: string, opts: RunsFlags) =>
      run(async () => (await commands.runs()).runsShowCommand(runId, runsFlags(opts), io))(),
  );
  runsOptions(
    runs
      .command('cancel')
      .description('cancel a run: remove jobs not started; running ones checkpoint their page and stop')
      .argument('<run-id>'),
  ).action((runId: string, opts: RunsFlags) =>
    run(async () => (await commands.runs()).runsCancelCommand(runId, runsFlags(opts), io))(),
  );

  root
    .command('worker')
    .description('take invocation jobs from a queue (faucet run --queue) and run them')
    .requiredOption('--queue <url>', 'the Redis of the queue (redis://host:port)')
    .option('--queue-name <name>', 'the BullMQ queue (default: faucet)')
    .option('--concurrency <n>', 'jobs run at once (default: 1)', positiveInt('--concurrency'))
    .option(
      '--lock-duration <ms>',
      'how long a job stays locked to a worker that stopped renewing it (default: 30000)',
      positiveInt('--lock-duration'),
    )
    .option(
      '--stalled-interval <ms>',
      'how often jobs of dead workers are looked for and re-delivered (default: 30000)',
      positiveInt('--stalled-interval'),
    )
    .option(
      '--dashboard-port <port>',
      'also serve the Bull Board dashboard (read-only) at http://127.0.0.1:<port>/ (0: any free port)',
      portOf('--dashboard-port'),
    )
    .addOption(
      new Option('--log-level <level>', 'engine and connector messages to show')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .action(
      (opts: {
        queue: string;
        queueName?: string;
        concurrency?: number;
        lockDuration?: number;
        stalledInterval?: number;
        dashboardPort?: number;
        logLevel: LogLevel;
      }) =>
        run(async () =>
          (await commands.worker()).workerCommand(
            {
              queue: opts.queue,
              logLevel: opts.logLevel,
              ...(opts.queueName === undefined ? {} : { queueName: opts.queueName }),
              ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
              ...(opts.lockDuration === undefined ? {} : { lockDuration: opts.lockDuration }),
              ...(opts.stalledInterval === undefined ? {} : { stalledInterval: opts.stalledInterval }),
              ...(opts.dashboardPort === undefined ? {} : { dashboardPort: opts.dashboardPort }),
            },
            io,
          ),
        )(),
    );

  addDashboardCommand(root, { io, run });
}

function addDashboardCommand(root: Command, { io, run }: ProgramContext): void {
  root
    .command('dashboard')
    .description('serve the Bull Board dashboard (read-only) of a queue on 127.0.0.1 until Ctrl-C')
    .requiredOption('--queue <url>', 'the Redis of the queue (redis://host:port)')
    .option('--queue-name <name>', 'the BullMQ queue (default: faucet)')
    .option(
      '--port <port>',
      `serve at http://127.0.0.1:<port>/ (default: ${DEFAULT_DASHBOARD_PORT}; 0: any free port)`,
      portOf('--port'),
    )
    .action((opts: { queue: string; queueName?: string; port?: number }) =>
      run(async () =>
        (await commands.dashboard()).dashboardCommand(
          {
            queue: opts.queue,
            ...(opts.queueName === undefined ? {} : { queueName: opts.queueName }),
            ...(opts.port === undefined ? {} : { port: opts.port }),
          },
          io,
        ),
      )(),
    );
}
