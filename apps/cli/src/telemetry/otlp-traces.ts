/**
 * OTLP/HTTP (http/json) export of the engine's spans: a tracer provider with a batching span
 * processor. Loaded with `import()` only when the `OTEL_*` variables ask for traces. No context
 * manager is needed: the engine passes each span's parent explicitly.
 */
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { OtlpPlan } from './config.js';
import type { ExportReport } from './otlp.js';

class ReportingTraceExporter extends OTLPTraceExporter {
  constructor(
    private readonly url: string,
    private readonly report: ExportReport,
  ) {
    super({ url });
  }

  override export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    super.export(spans, (result) => {
      this.report('OTLP traces', this.url, result);
      done(result);
    });
  }
}

export function otlpTracerProvider(
  plan: NonNullable<OtlpPlan['traces']>,
  resource: Resource,
  report: ExportReport,
): BasicTracerProvider {
  return new BasicTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new ReportingTraceExporter(plan.url, report))],
  });
}
