/**
 * `--metrics-port`: a Prometheus exporter (a pull MetricReader) and the HTTP server that answers
 * its scrapes. Loaded with `import()` only when the flag is given.
 */
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import { type MetricsServer, serveMetrics } from './metrics-server.js';

/** Bind host:port first (a port in use rejects with a UsageError), then hand back the reader. */
export async function startPrometheus(
  host: string,
  port: number,
): Promise<{ reader: MetricReader; server: MetricsServer }> {
  // preventServerStart: we serve its handler ourselves (see metrics-server.ts).
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const server = await serveMetrics(host, port, (request, response) =>
    exporter.getMetricsRequestHandler(request, response),
  );
  return { reader: exporter, server };
}
