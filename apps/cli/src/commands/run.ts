/**
 * `faucet run [config]`: load the pipeline file, run every row (and DAG child) to its end, and say
 * how it went. SIGINT/SIGTERM cancel cooperatively: each running invocation finishes its page and
 * stores its checkpoint, then the command exits 130/143 saying it was cancelled. A second signal
 * exits at once (the state is still consistent: it only ever holds confirmed pages).
 *
 * Metrics and traces are exported only when asked (`--metrics-port`, `OTEL_*` variables): the SDK
 * is registered after the file is loaded and before any connector is created, and flushed and
 * stopped when the run ends, whatever its outcome.
 */
import { type LogLevel, silentLogger } from '@faucet/core';
import { assertRunnable, executePipeline, loadPipeline, UsageError } from '@faucet/pipeline';
import { cliHost, cliVersion } from '../cli-package.js';
import { DEFAULT_METRICS_HOST } from '../flags.js';
import { type CliIo, ExitCode, writeLine } from '../io.js';
import { createCliLogger, createDisplay } from '../progress.js';
import { type SummaryContext, writeSummary } from '../summary.js';
import { startTelemetry } from '../telemetry/index.js';
import { enterConfigDir, loadOrReport } from './common.js';

export interface RunCommandOptions {
  dryRun?: boolean;
  limit?: number;
  output?: 'text' | 'json';
  quiet?: boolean;
  logLevel?: LogLevel;
  /** Serve Prometheus metrics on this port while the run lasts (0: any free port). */
  metricsPort?: number;
  /** Address for `metricsPort` (default 127.0.0.1). */
  metricsHost?: string;
  /** Keep serving /metrics this many seconds after the run ends (default 0). */
  metricsLinger?: number;
}

export { DEFAULT_METRICS_HOST };

function checkMetricsOptions(options: RunCommandOptions): void {
  if (options.metricsPort !== undefined) return;
  if (options.metricsHost !== undefined) throw new UsageError('--metrics-host needs --metrics-port');
  if (options.metricsLinger !== undefined) throw new UsageError('--metrics-linger needs --metrics-port');
}

export async function runCommand(
  config: string | undefined,
  options: RunCommandOptions,
  io: CliIo,
): Promise<number> {
  checkMetricsOptions(options);
  const pipeline = await loadOrReport(
    async () => {
      const loaded = await loadPipeline(config, { env: io.env, cwd: io.cwd, host: cliHost() });
      // What the engine would refuse is refused here, before anything runs, with exit 2 (as validate).
      if (!options.dryRun) {
        const previous = process.cwd();
        process.chdir(loaded.dir);
        try {
          await assertRunnable(loaded, silentLogger);
        } finally {
          process.chdir(previous);
        }
      }
      return loaded;
    },
    options.output,
    io,
  );
  enterConfigDir(pipeline);

  // Warnings go straight to stderr until the progress display exists, then through it.
  let log = (line: string): void => writeLine(io.stderr, line);
  const telemetry = await startTelemetry({
    env: io.env,
    serviceVersion: cliVersion,
    warn: (message) => log(pipeline.redactor.redact(`warn ${message}`)),
    ...(options.metricsPort === undefined
      ? {}
      : { prometheus: { host: options.metricsHost ?? DEFAULT_METRICS_HOST, port: options.metricsPort } }),
  });
  for (const line of telemetry?.lines ?? []) writeLine(io.stderr, pipeline.redactor.redact(line));

  const controller = new AbortController();
  let exitOnCancel: number = ExitCode.interrupted;
  const display = createDisplay({
    stream: io.stderr,
    tty: io.stderr.isTTY === true && !options.quiet,
    rows: pipeline.order,
    dryRun: options.dryRun === true,
  });
  const observer = options.quiet ? undefined : display;
  const logger = createCliLogger(display, options.logLevel ?? (options.quiet ? 'warn' : 'info'));
  log = (line) => display.log(line);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    exitOnCancel = signal === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted;
    if (signals === 1) {
      display.log(
        `${signal}: cancelling — finishing the current page of each running invocation and storing its checkpoint ` +
          '(send it again to stop at once)',
      );
      controller.abort();
    } else {
      display.log(`${signal} again: stopping now`);
      process.exit(exitOnCancel);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const mode = options.dryRun ? 'dry-run' : 'run';
  try {
    const report = await executePipeline(pipeline, {
      mode,
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      signal: controller.signal,
      logger,
      ...(observer ? { observer } : {}),
    });
    display.finish();
    const ctx: SummaryContext = {
      pipeline: pipeline.name,
      file: pipeline.displayFile,
      mode,
      redactor: pipeline.redactor,
      listInvocations: io.stderr.isTTY === true && !options.quiet,
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    };
    writeSummary(report, ctx, options, io);
    if (report.status === 'failed') return ExitCode.failed;
    if (report.status === 'cancelled') return exitOnCancel;
    return ExitCode.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    display.finish();
    if (telemetry) {
      // A cancelled run (a signal) does not linger: it was asked to stop.
      const linger = signals === 0 ? (options.metricsLinger ?? 0) : 0;
      if (linger > 0 && telemetry.metricsUrl) {
        writeLine(
          io.stderr,
          `metrics: still serving ${telemetry.metricsUrl} for ${linger}s (--metrics-linger)`,
        );
      }
      await telemetry.linger(linger);
      await telemetry.shutdown();
    }
  }
}
