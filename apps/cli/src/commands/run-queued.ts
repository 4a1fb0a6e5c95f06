/**
 * `faucet run --queue redis://…`: the file's invocations become BullMQ jobs that `faucet worker`
 * processes take, on this machine or others. The command follows them and prints the summary a
 * local run prints, with the same exit code, and while they run the same progress display
 * (queued-progress.ts); `--detach` prints the run id and returns at once.
 * Ctrl-C cancels the run (see onSignals), as it cancels a local run.
 * @faucet/runner-bullmq (and BullMQ) is imported only here, so a local run never loads it.
 */
import { silentLogger } from '@faucet/core';
import { assertRunnable, type LoadedPipeline, loadPipeline } from '@faucet/pipeline';
import type { FollowOptions, SubmittedRun } from '@faucet/runner-bullmq';
import { cliHost } from '../cli-package.js';
import { type CliIo, ExitCode, writeLine } from '../io.js';
import { createDisplay, type Display } from '../progress.js';
import { type QueuedObserver, queuedObserver, rowsOf } from '../queued-progress.js';
import { type SummaryContext, writeSummary } from '../summary.js';
import { enterConfigDir, loadOrReport } from './common.js';

export interface RunQueuedOptions {
  queue: string;
  queueName?: string;
  detach?: boolean;
  output?: 'text' | 'json';
  quiet?: boolean;
}

type Runner = typeof import('@faucet/runner-bullmq');

async function loadQueueable(runner: Runner, config: string | undefined, io: CliIo): Promise<LoadedPipeline> {
  const loaded = await loadPipeline(config, { env: io.env, cwd: io.cwd, host: cliHost() });
  const previous = process.cwd();
  process.chdir(loaded.dir);
  try {
    await assertRunnable(loaded, silentLogger);
  } finally {
    process.chdir(previous);
  }
  runner.assertQueueable(loaded);
  return loaded;
}

/**
 * The first SIGINT/SIGTERM cancels the run as a local run is cancelled: jobs not started are
 * removed, running ones finish their page, store the checkpoint and end cancelled; the command
 * keeps following until they have. A second signal stops following at once (the cancel stands).
 * The returned function removes the handlers.
 */
function onSignals(
  cancel: () => Promise<unknown>,
  following: AbortController,
  log: (line: string) => void,
  exit: { code: number; signals: number },
): () => void {
  const handler = (signal: NodeJS.Signals) => {
    exit.code = signal === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted;
    exit.signals++;
    if (exit.signals > 1) {
      log(`${signal} again: stopped following (the jobs were told to stop)`);
      following.abort();
      return;
    }
    log(
      `${signal}: cancelling the run — jobs not started are removed, running ones finish their page and ` +
        'store the checkpoint (send it again to stop waiting)',
    );
    cancel().catch((error: unknown) => {
      log(`could not cancel the run: ${error instanceof Error ? error.message : String(error)}`);
      following.abort();
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** The display's feed from the followed jobs, plus a line naming the worker of each ended job. */
function followCallbacks(
  runner: Runner,
  run: SubmittedRun,
  display: Display,
  log: (line: string) => void,
  quiet: boolean,
): Pick<FollowOptions, 'onProgress' | 'onFinished'> & Partial<Pick<QueuedObserver, 'finishChildRows'>> {
  if (quiet) return {};
  const observer = queuedObserver(runner, run, display);
  return {
    finishChildRows: observer.finishChildRows,
    onProgress: observer.onProgress,
    onFinished: (job) => {
      observer.onFinished(job);
      if (job.outcome?.worker) log(`  ${job.job.stateKey}: ${job.status} on ${job.outcome.worker}`);
    },
  };
}

export async function runQueuedCommand(
  config: string | undefined,
  options: RunQueuedOptions,
  io: CliIo,
): Promise<number> {
  const runner: Runner = await import('@faucet/runner-bullmq');
  const pipeline = await loadOrReport(() => loadQueueable(runner, config, io), options.output, io);
  enterConfigDir(pipeline);
  const target = { url: options.queue, ...(options.queueName ? { queueName: options.queueName } : {}) };
  await runner.probeRedis(target.url);
  const queue = runner.openQueue(target);
  try {
    const started = performance.now();
    const run = await runner.submitRun(pipeline, queue, target);
    const where = `${runner.redisEndpoint(target.url)} queue "${run.queueName}"`;
    const followed = run.jobs.filter((j) => !j.added && !j.deferred).length;
    const deferred = run.jobs.filter((j) => j.deferred).length;
    writeLine(
      io.stderr,
      `${pipeline.name}: ${run.jobs.length} invocation(s) on ${where} as run ${run.runId}` +
        (followed > 0 ? ` (${followed} already queued or running, followed)` : '') +
        (deferred > 0 ? `; ${deferred} wait for their depends_on` : '') +
        (run.childRows?.length ? '; DAG children are added as their parents write' : ''),
    );
    if (options.detach) {
      writeLine(
        io.stdout,
        options.output === 'json' ? JSON.stringify({ run_id: run.runId, jobs: run.jobs.length }) : run.runId,
      );
      return ExitCode.ok;
    }
    const controller = new AbortController();
    const exit = { code: ExitCode.ok as number, signals: 0 };
    const display = createDisplay({
      stream: io.stderr,
      tty: io.stderr.isTTY === true && !options.quiet,
      rows: [...rowsOf(run).keys()],
    });
    const log = (line: string) => display.log(pipeline.redactor.redact(line));
    const removeHandlers = onSignals(() => runner.cancelRun(queue, run), controller, log, exit);
    try {
      const { finishChildRows, ...callbacks } = followCallbacks(
        runner,
        run,
        display,
        log,
        options.quiet === true,
      );
      const ended = await runner.followRun(queue, run, { signal: controller.signal, ...callbacks });
      const report = runner.executionReport(run, ended, performance.now() - started);
      finishChildRows?.(report.rows);
      display.finish();
      const ctx: SummaryContext = {
        pipeline: pipeline.name,
        file: pipeline.displayFile,
        mode: 'run',
        redactor: pipeline.redactor,
        listInvocations: io.stderr.isTTY === true && !options.quiet,
      };
      writeSummary(report, ctx, options, io);
      if (report.status === 'failed') return ExitCode.failed;
      if (exit.signals > 0) return exit.code;
      return report.status === 'ok' ? ExitCode.ok : ExitCode.failed;
    } finally {
      removeHandlers();
      display.finish();
    }
  } finally {
    await queue.close();
  }
}
