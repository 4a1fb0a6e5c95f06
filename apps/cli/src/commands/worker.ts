/**
 * `faucet worker --queue redis://…`: take invocation jobs from the queue and run each with the
 * normal engine (connectors found as `faucet run` finds them, the state store the file names).
 * SIGINT/SIGTERM: stop taking jobs; running invocations finish their page, store the checkpoint and
 * go back to the queue for another worker. A worker killed outright has its jobs re-delivered once
 * their lock expires (`--lock-duration`), found by another worker's stalled check (`--stalled-interval`).
 */
import type { LogLevel } from '@faucet/core';
import { cliHost } from '../cli-package.js';
import { type CliIo, ExitCode, writeLine } from '../io.js';
import { createCliLogger } from '../progress.js';

export interface WorkerCommandOptions {
  queue: string;
  queueName?: string;
  concurrency?: number;
  lockDuration?: number;
  stalledInterval?: number;
  logLevel?: LogLevel;
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
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
  const signal = await waitForSignal();
  log(
    `${signal}: stopping — running invocations finish their page, store the checkpoint and go back to the queue`,
  );
  await worker.close();
  log('faucet worker: stopped');
  return ExitCode.ok;
}
