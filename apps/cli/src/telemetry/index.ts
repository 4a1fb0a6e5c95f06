/**
 * Metrics and traces for `faucet run`, only when asked: `--metrics-port` serves Prometheus'
 * /metrics for the length of the run, and the standard `OTEL_*` variables turn on OTLP export
 * (see ./config.ts). When neither asks, nothing is loaded or registered: the engine's
 * `@opentelemetry/api` calls stay no-ops and a plain run pays nothing.
 */
import { type OtlpPlan, planOtlp, printableUrl } from './config.js';

export interface TelemetryOptions {
  prometheus?: { host: string; port: number };
  env: Readonly<Record<string, string | undefined>>;
  /** The CLI's version, for the `service.version` resource attribute (read only when needed). */
  serviceVersion: () => string;
  /** Print a warning (one line, without the "warn" prefix). */
  warn: (message: string) => void;
}

export interface Telemetry {
  /** What is exported where, one line each (`metrics: http://127.0.0.1:9464/metrics`). */
  readonly lines: readonly string[];
  /** The /metrics URL when serving Prometheus. */
  readonly metricsUrl?: string;
  /** Keep serving /metrics for `seconds`, or until SIGINT/SIGTERM. */
  linger(seconds: number): Promise<void>;
  /** Flush and stop everything. Bounded in time, never throws. */
  shutdown(): Promise<void>;
}

function describeOtlp(plan: OtlpPlan): string[] {
  const lines: string[] = [];
  if (plan.metrics) {
    lines.push(
      `metrics: OTLP (http/json) to ${printableUrl(plan.metrics.url)} every ${plan.metrics.intervalMs / 1000}s ` +
        'and at the end',
    );
  }
  if (plan.traces) lines.push(`traces: OTLP (http/json) to ${printableUrl(plan.traces.url)}`);
  return lines;
}

/** Wait `seconds`, or less when the process gets SIGINT or SIGTERM. */
function waitOrSignal(seconds: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    const timer = setTimeout(done, seconds * 1000);
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/**
 * Start what the options and environment ask for; undefined when they ask for nothing. A metrics
 * port that cannot be bound rejects with a UsageError (nothing has been read yet).
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry | undefined> {
  const otlp = planOtlp(options.env);
  for (const warning of otlp.warnings) options.warn(warning);
  if (!options.prometheus && !otlp.metrics && !otlp.traces) return undefined;

  const { startSdk } = await import('./sdk.js');
  const sdk = await startSdk({
    otlp,
    serviceVersion: options.serviceVersion(),
    warn: options.warn,
    ...(options.prometheus ? { prometheus: options.prometheus } : {}),
  });
  const lines = [...(sdk.metricsUrl ? [`metrics: ${sdk.metricsUrl}`] : []), ...describeOtlp(otlp)];
  return {
    lines,
    ...(sdk.metricsUrl ? { metricsUrl: sdk.metricsUrl } : {}),
    async linger(seconds) {
      if (sdk.metricsUrl && seconds > 0) await waitOrSignal(seconds);
    },
    shutdown: () => sdk.shutdown(),
  };
}
