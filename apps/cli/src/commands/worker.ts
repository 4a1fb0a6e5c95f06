/**
 * `faucet worker --queue redis://…`: take invocation jobs from the queue and run each with the
 * normal engine (connectors found as `faucet run` finds them, the state store the file names).
 * SIGINT/SIGTERM: stop taking jobs; running invocations finish their page, store the checkpoint and
 * go back to the queue for another worker. A worker killed outright has its jobs re-delivered once
 * their lock expires (`--lock-duration`), found by another worker's stalled check (`--stalled-interval`).
 * `--dashboard-port` serves Bull Board beside the jobs (see dashboard.ts), closed with the worker.
 */
import type { LogLevel } from '@faucet/core';
import { cliHost } from '../cli-package.js';
import { type CliIo, ExitCode, writeLine } from '../io.js';
import { createCliLogger } from '../progress.js';
import { waitForSignal } from '../signals.js';
import type { ServedDashboard } from './dashboard.js';

export interface WorkerCommandOptions {
  queue: string;
  queueName?: string;
  concurrency?: number;
  lockDuration?: number;
  stalledInterval?: number;
  logLevel?: LogLevel;
  /** Serve Bull Board on 127.0.0.1 at this port while the worker runs (0: any free port). */
  dashboardPort?: number;
}

async function startDashboardOf(
  options: WorkerCommandOptions,
  io: CliIo,
): Promise<ServedDashboard | undefined> {
  if (options.dashboardPort === undefined) return undefined;
  const { serveDashboard } = await import('./dashboard.js');
  return serveDashboard(
    {
      queue: options.queue,
      ...(options.queueName ? { queueName: options.queueName } : {}),
      port: options.dashboardPort,
      portFlag: '--dashboard-port',
    },
    io,
  );
}

export async function workerCommand(options: WorkerCommandOptions, io: CliIo): Promise<number> {
  const runner = await import('@faucet/runner-bullmq');
  const log = (line: string) => writeLine(io.stderr, line);
  const worker = await runner.startWorker({
    url: options.queue,
    ...(options.queueName ? { queueName: options.queueName } : {}),
    concurrency: options.concurrency ?? 1,
    ...(options.lockDuration === undefined ? {} : { lockDurationMs: options.lockDuration }),
    ...(options.stalledInterval === undefined ? {} : { stalledIntervalMs: options.stalledInterval }),
    env: io.env,
    host: cliHost(),
    logger: createCliLogger({ log }, options.logLevel ?? 'info'),
    events: {
      started: (job, attempt) => log(`started ${job.stateKey} (run ${job.runId}, attempt ${attempt})`),
      finished: (job, result) => {
        const written = result.result?.recordsWritten;
        const detail = result.error
          ? `: ${result.error.message}`
          : written === undefined
            ? ''
            : ` (${written} records written)`;
        log(`finished ${job.stateKey}: ${result.status}${detail}`);
      },
    },
  });
  const name = options.queueName ?? runner.DEFAULT_QUEUE_NAME;
  log(
    `faucet worker: taking jobs from ${runner.redisEndpoint(options.queue)} queue "${name}" ` +
      `(concurrency ${options.concurrency ?? 1}); Ctrl-C stops`,
  );
  let dashboard: ServedDashboard | undefined;
  try {
    dashboard = await startDashboardOf(options, io);
  } catch (error) {
    await worker.close();
    throw error;
  }
  const signal = await waitForSignal();
  log(
    `${signal}: stopping — running invocations finish their page, store the checkpoint and go back to the queue`,
  );
  await dashboard?.close();
  await worker.close();
  log('faucet worker: stopped');
  return ExitCode.ok;
}
