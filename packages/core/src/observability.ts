/**
 * Metrics, spans and progress for a run, through @opentelemetry/api only (a no-op until the host
 * registers an SDK). Connectors write no metrics code: the engine measures every source page, sink
 * write and flush, and state put. Every call here is guarded: a broken exporter or progress
 * consumer never fails a run (invariant I5).
 */
import type { Attributes, Context, Counter, Histogram, Span } from '@opentelemetry/api';
import { type OpenTelemetryApi, openTelemetryApi } from './otel-api.js';
import type { JsonValue, Logger } from './types.js';

export const INSTRUMENTATION_SCOPE = '@faucet/core';

/** Metric names (ARCHITECTURE §9). Labels: pipeline, row, connector; runs also carry status. */
export const MetricNames = {
  sourceRecords: 'faucet.source.records',
  sourcePages: 'faucet.source.pages',
  sourcePageDuration: 'faucet.source.page.duration',
  sourceErrors: 'faucet.source.errors',
  transformRecordsOut: 'faucet.transform.records',
  sinkRecords: 'faucet.sink.records',
  sinkWriteDuration: 'faucet.sink.write.duration',
  sinkFlushDuration: 'faucet.sink.flush.duration',
  sinkErrors: 'faucet.sink.errors',
  statePut: 'faucet.state.put',
  statePutDuration: 'faucet.state.put.duration',
  dlqRecords: 'faucet.dlq.records',
  pagesSkipped: 'faucet.pipeline.pages_skipped',
  pipelineRuns: 'faucet.pipeline.runs',
  pipelineRunDuration: 'faucet.pipeline.run.duration',
} as const;

export const SpanNames = {
  run: 'faucet.pipeline.run',
  sourcePage: 'faucet.source.page',
  sinkWrite: 'faucet.sink.write',
  sinkFlush: 'faucet.sink.flush',
  statePut: 'faucet.state.put',
  dlqWrite: 'faucet.dlq.write',
} as const;

export type RunStatus = 'ok' | 'cancelled' | 'failed';

/** What a CLI draws: one event per page, per checkpoint, and at start and end. */
export interface ProgressEvent {
  type: 'start' | 'page' | 'checkpoint' | 'end';
  pipeline: string;
  row: string;
  runId: string;
  pages: number;
  recordsRead: number;
  recordsWritten: number;
  recordsDeadLettered: number;
  checkpoints: number;
  /** Records written per second since the run started. */
  ratePerSec: number;
  elapsedMs: number;
  /** ISO time of the last stored checkpoint. */
  lastCheckpointAt?: string;
  lastBookmark?: JsonValue;
  status?: RunStatus;
}

export type ProgressListener = (event: ProgressEvent) => void;

interface Instruments {
  sourceRecords: Counter;
  sourcePages: Counter;
  sourcePageDuration: Histogram;
  sourceErrors: Counter;
  transformRecordsOut: Counter;
  sinkRecords: Counter;
  sinkWriteDuration: Histogram;
  sinkFlushDuration: Histogram;
  sinkErrors: Counter;
  statePut: Counter;
  statePutDuration: Histogram;
  dlqRecords: Counter;
  pagesSkipped: Counter;
  pipelineRuns: Counter;
  pipelineRunDuration: Histogram;
}

function createInstruments(api: OpenTelemetryApi): Instruments {
  // Taken per run, not at module load, so an SDK registered after import is still used.
  const meter = api.metrics.getMeter(INSTRUMENTATION_SCOPE);
  const seconds = { unit: 's' };
  return {
    sourceRecords: meter.createCounter(MetricNames.sourceRecords, {
      description: 'Records read from the source',
    }),
    sourcePages: meter.createCounter(MetricNames.sourcePages, { description: 'Pages read from the source' }),
    sourcePageDuration: meter.createHistogram(MetricNames.sourcePageDuration, {
      ...seconds,
      description: 'Time waiting for the next source page',
    }),
    sourceErrors: meter.createCounter(MetricNames.sourceErrors, { description: 'Source failures' }),
    transformRecordsOut: meter.createCounter(MetricNames.transformRecordsOut, {
      description: 'Records leaving the transform chain',
    }),
    sinkRecords: meter.createCounter(MetricNames.sinkRecords, { description: 'Records the sink accepted' }),
    sinkWriteDuration: meter.createHistogram(MetricNames.sinkWriteDuration, {
      ...seconds,
      description: 'Sink write call duration',
    }),
    sinkFlushDuration: meter.createHistogram(MetricNames.sinkFlushDuration, {
      ...seconds,
      description: 'Sink flush duration',
    }),
    sinkErrors: meter.createCounter(MetricNames.sinkErrors, { description: 'Sink write/flush failures' }),
    statePut: meter.createCounter(MetricNames.statePut, { description: 'Checkpoints stored' }),
    statePutDuration: meter.createHistogram(MetricNames.statePutDuration, {
      ...seconds,
      description: 'State put duration',
    }),
    dlqRecords: meter.createCounter(MetricNames.dlqRecords, { description: 'Records sent to the DLQ' }),
    pagesSkipped: meter.createCounter(MetricNames.pagesSkipped, {
      description: 'Pages skipped because the sink had already committed them (effectively-once)',
    }),
    pipelineRuns: meter.createCounter(MetricNames.pipelineRuns, { description: 'Finished runs by status' }),
    pipelineRunDuration: meter.createHistogram(MetricNames.pipelineRunDuration, {
      ...seconds,
      description: 'Run duration',
    }),
  };
}

export interface TelemetryLabels {
  pipeline: string;
  row: string;
  source: string;
  sink: string;
  state: string;
  dlq: string;
}

/** Per-run telemetry. Every method is exception-safe. */
export class RunTelemetry {
  private readonly instruments: Instruments | undefined;
  private readonly attrs: { source: Attributes; sink: Attributes; state: Attributes; dlq: Attributes };
  private readonly runSpan: Span | undefined;
  private readonly runContext: Context | undefined;
  /** Undefined when no host registered an OpenTelemetry SDK at the run's start: no telemetry work. */
  private readonly api: OpenTelemetryApi | undefined;
  private warned = false;

  constructor(
    labels: TelemetryLabels,
    runId: string,
    private readonly logger: Logger,
  ) {
    const base = { pipeline: labels.pipeline, row: labels.row };
    this.attrs = {
      source: { ...base, connector: labels.source },
      sink: { ...base, connector: labels.sink },
      state: { ...base, connector: labels.state },
      dlq: { ...base, connector: labels.dlq },
    };
    const api = this.guard(openTelemetryApi);
    this.api = api;
    if (!api) return;
    this.instruments = this.guard(() => createInstruments(api));
    this.runSpan = this.guard(() =>
      api.trace.getTracer(INSTRUMENTATION_SCOPE).startSpan(SpanNames.run, {
        attributes: { ...base, run_id: runId, source: labels.source, sink: labels.sink },
      }),
    );
    this.runContext = this.runSpan
      ? this.guard(() => api.trace.setSpan(api.context.active(), this.runSpan as Span))
      : undefined;
  }

  private guard<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      if (!this.warned) {
        this.warned = true;
        this.logger.warn('observability failed; the run continues without it', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
      return undefined;
    }
  }

  /** Run `fn` inside a child span of the run span; the span records failures. */
  async span<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
    const api = this.api;
    const span =
      api && this.runContext
        ? this.guard(() =>
            api.trace.getTracer(INSTRUMENTATION_SCOPE).startSpan(name, { attributes }, this.runContext),
          )
        : undefined;
    if (!span || !api) return fn();
    try {
      return await fn();
    } catch (error) {
      this.guard(() => {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: api.SpanStatusCode.ERROR });
      });
      throw error;
    } finally {
      this.guard(() => span.end());
    }
  }

  sourcePage(records: number, waitMs: number): void {
    const i = this.instruments;
    if (!i) return;
    this.guard(() => {
      i.sourcePages.add(1, this.attrs.source);
      i.sourceRecords.add(records, this.attrs.source);
      i.sourcePageDuration.record(waitMs / 1000, this.attrs.source);
    });
  }

  sourceError(): void {
    this.guard(() => this.instruments?.sourceErrors.add(1, this.attrs.source));
  }

  transformed(records: number): void {
    this.guard(() => this.instruments?.transformRecordsOut.add(records, this.attrs.sink));
  }

  sinkWrite(records: number, durationMs: number): void {
    const i = this.instruments;
    if (!i) return;
    this.guard(() => {
      i.sinkRecords.add(records, this.attrs.sink);
      i.sinkWriteDuration.record(durationMs / 1000, this.attrs.sink);
    });
  }

  sinkFlush(durationMs: number): void {
    this.guard(() => this.instruments?.sinkFlushDuration.record(durationMs / 1000, this.attrs.sink));
  }

  sinkError(): void {
    this.guard(() => this.instruments?.sinkErrors.add(1, this.attrs.sink));
  }

  statePut(durationMs: number): void {
    const i = this.instruments;
    if (!i) return;
    this.guard(() => {
      i.statePut.add(1, this.attrs.state);
      i.statePutDuration.record(durationMs / 1000, this.attrs.state);
    });
  }

  dlqRecords(records: number): void {
    this.guard(() => this.instruments?.dlqRecords.add(records, this.attrs.dlq));
  }

  pagesSkipped(pages: number): void {
    this.guard(() => this.instruments?.pagesSkipped.add(pages, this.attrs.sink));
  }

  finish(status: RunStatus, durationMs: number, error?: Error): void {
    const i = this.instruments;
    const attrs = { ...this.attrs.source, status };
    this.guard(() => {
      i?.pipelineRuns.add(1, attrs);
      i?.pipelineRunDuration.record(durationMs / 1000, attrs);
    });
    const span = this.runSpan;
    const api = this.api;
    if (span && api) {
      this.guard(() => {
        span.setAttribute('status', status);
        if (error) {
          span.recordException(error);
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: error.message });
        }
        span.end();
      });
    }
  }
}

/** Wrap a progress listener so that a throwing consumer is reported once and then ignored. */
export function safeProgress(listener: ProgressListener | undefined, logger: Logger): ProgressListener {
  if (!listener) return () => {};
  let broken = false;
  return (event) => {
    if (broken) return;
    try {
      listener(event);
    } catch (error) {
      broken = true;
      logger.warn('progress listener failed; progress reporting is off for this run', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };
}
