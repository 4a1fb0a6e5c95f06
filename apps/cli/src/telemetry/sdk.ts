/**
 * The OpenTelemetry SDK behind `faucet run --metrics-port` and the `OTEL_*` variables. Only ever
 * loaded with `import()` when one of them asks for it (see ./index.ts), and each exporter only
 * when its own signal is asked for, so a plain run loads none of this.
 *
 * The engine (and connectors such as the CDC source) measure through `@opentelemetry/api`, which
 * hands out no-op meters until a MeterProvider is registered: this runs before any connector is
 * created. Export failures never fail a run (ARCHITECTURE I5): the first one is reported, once.
 */
import { metrics, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  AggregationType,
  InstrumentType,
  MeterProvider,
  type MetricReader,
} from '@opentelemetry/sdk-metrics';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { type OtlpPlan, printableUrl } from './config.js';
import type { MetricsServer } from './metrics-server.js';
import type { ExportReport } from './otlp.js';

export interface SdkOptions {
  prometheus?: { host: string; port: number };
  otlp: OtlpPlan;
  serviceVersion: string;
  warn: (message: string) => void;
}

export interface StartedSdk {
  /** The /metrics URL when serving Prometheus. */
  metricsUrl?: string;
  /** Flush what is buffered, stop the server and unregister; bounded in time, never throws. */
  shutdown(): Promise<void>;
}

/**
 * Seconds histograms (page wait, sink write and flush, state put, run duration) get buckets from
 * 1 ms to 1 h: the SDK's default buckets (0, 5, 10, … 10000) are meant for milliseconds and would
 * put nearly every sink write into the first bucket.
 */
const SECONDS_BUCKETS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
];

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const e = error as Error & { code?: unknown; errors?: unknown[] };
  // Node reports a refused dual-stack connection as an AggregateError with an empty message.
  const first = Array.isArray(e.errors) && e.errors[0] instanceof Error ? e.errors[0].message : undefined;
  const text =
    typeof e.code === 'number'
      ? `HTTP ${e.code}${e.message ? ` ${e.message}` : ''}`
      : e.message || first || String(e.code ?? e.name);
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** Warns about the first failed export of any signal; stays quiet after that. */
function reportFirstFailure(warn: (message: string) => void): ExportReport {
  let reported = false;
  return (what, url, result) => {
    if (result.code === ExportResultCode.SUCCESS || reported) return;
    reported = true;
    warn(
      `${what} export to ${printableUrl(url)} failed (${describeFailure(result.error)}); ` +
        'the run goes on, later export failures are not reported',
    );
  };
}

/** Whether `work` settled within `ms` (a collector that hangs must not hold the exit). */
async function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } catch {
    return true; // the exporters reported their failures
  } finally {
    clearTimeout(timer);
  }
}

export async function startSdk(options: SdkOptions): Promise<StartedSdk> {
  const { otlp } = options;
  const report = reportFirstFailure(options.warn);
  // service.name "faucet" unless OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES say otherwise.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'faucet', 'service.version': options.serviceVersion }))
    .merge(detectResources({ detectors: [envDetector] }));

  // The server first: a port in use must fail before anything is registered.
  let server: MetricsServer | undefined;
  const readers: MetricReader[] = [];
  let tracerProvider: BasicTracerProvider | undefined;
  try {
    if (options.prometheus) {
      const { startPrometheus } = await import('./prometheus.js');
      const started = await startPrometheus(options.prometheus.host, options.prometheus.port);
      server = started.server;
      readers.push(started.reader);
    }
    if (otlp.metrics) {
      const { otlpMetricReader } = await import('./otlp.js');
      readers.push(otlpMetricReader(otlp.metrics, report));
    }
    if (otlp.traces) {
      const { otlpTracerProvider } = await import('./otlp-traces.js');
      tracerProvider = otlpTracerProvider(otlp.traces, resource, report);
    }
  } catch (error) {
    await server?.close();
    throw error;
  }

  const meterProvider =
    readers.length > 0
      ? new MeterProvider({
          resource,
          readers,
          views: [
            {
              instrumentType: InstrumentType.HISTOGRAM,
              instrumentUnit: 's',
              aggregation: {
                type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
                options: { boundaries: SECONDS_BUCKETS },
              },
            },
          ],
        })
      : undefined;
  // Registration fails when the host process (faucet used as a library) registered its own SDK:
  // the engine then reports to that one, and ours must not unregister it at the end.
  const ownsMeter = meterProvider ? metrics.setGlobalMeterProvider(meterProvider) : false;
  const ownsTracer = tracerProvider ? trace.setGlobalTracerProvider(tracerProvider) : false;
  if ((meterProvider && !ownsMeter) || (tracerProvider && !ownsTracer)) {
    options.warn('an OpenTelemetry SDK is already registered in this process; the engine reports to it');
  }

  // The exporters stop retrying at their own timeout; a little more than that bounds the wait.
  const flushLimitMs = Math.max(otlp.metrics?.timeoutMs ?? 0, otlp.traces?.timeoutMs ?? 0) + 1000;
  let stopped = false;
  return {
    ...(server ? { metricsUrl: server.url } : {}),
    async shutdown() {
      if (stopped) return;
      stopped = true;
      await server?.close();
      const flushed = await within(
        flushLimitMs,
        Promise.allSettled([meterProvider?.shutdown(), tracerProvider?.shutdown()]),
      );
      const target = otlp.metrics ?? otlp.traces;
      if (!flushed && target) {
        report('OTLP', target.url, {
          code: ExportResultCode.FAILED,
          error: new Error(`no answer within ${flushLimitMs / 1000}s at the end of the run`),
        });
      }
      if (ownsMeter) metrics.disable();
      if (ownsTracer) trace.disable();
    },
  };
}
