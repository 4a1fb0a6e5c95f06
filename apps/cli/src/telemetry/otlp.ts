/**
 * OTLP/HTTP (http/json) export of metrics and spans, each loaded with `import()` only when the
 * `OTEL_*` variables ask for it. The exporters read their own variables for headers, compression,
 * certificates and timeouts; we pass only the URL (see ./config.ts). Each export's result goes to
 * `report`, which tells the user about the first failure.
 */
import type { ExportResult } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import type { MetricReader, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { OtlpPlan } from './config.js';

export type ExportReport = (what: string, url: string, result: ExportResult) => void;

class ReportingMetricExporter extends OTLPMetricExporter {
  constructor(
    private readonly url: string,
    private readonly report: ExportReport,
  ) {
    super({ url });
  }

  override export(data: ResourceMetrics, done: (result: ExportResult) => void): void {
    super.export(data, (result) => {
      this.report('OTLP metrics', this.url, result);
      done(result);
    });
  }
}

/** A reader that exports every `intervalMs`, and once more when the provider shuts down. */
export function otlpMetricReader(plan: NonNullable<OtlpPlan['metrics']>, report: ExportReport): MetricReader {
  return new PeriodicExportingMetricReader({
    exporter: new ReportingMetricExporter(plan.url, report),
    exportIntervalMillis: plan.intervalMs,
    exportTimeoutMillis: plan.exportTimeoutMs,
  });
}
