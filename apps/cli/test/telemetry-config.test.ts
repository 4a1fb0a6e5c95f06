/** Which OTLP export the standard OTEL_* variables turn on (apps/cli/src/telemetry/config.ts). */
import { describe, expect, it } from 'vitest';
import { planOtlp, printableUrl } from '../src/telemetry/config.js';

describe('planOtlp', () => {
  it('turns nothing on without OTLP variables', () => {
    expect(planOtlp({})).toEqual({ warnings: [] });
    expect(planOtlp({ OTEL_SERVICE_NAME: 'etl', OTEL_EXPORTER_OTLP_HEADERS: 'a=b' })).toEqual({
      warnings: [],
    });
  });

  it('an endpoint turns on metrics and traces, each at its /v1 path, with the spec defaults', () => {
    expect(planOtlp({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({
      metrics: {
        url: 'http://collector:4318/v1/metrics',
        timeoutMs: 10_000,
        intervalMs: 60_000,
        exportTimeoutMs: 30_000,
      },
      traces: { url: 'http://collector:4318/v1/traces', timeoutMs: 10_000 },
      warnings: [],
    });
    expect(planOtlp({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example/base/' }).metrics?.url).toBe(
      'https://otlp.example/base/v1/metrics',
    );
  });

  it("a signal's own endpoint is used as it is and turns on that signal only", () => {
    const plan = planOtlp({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:4318/custom' });
    expect(plan.metrics?.url).toBe('http://m:4318/custom');
    expect(plan.traces).toBeUndefined();
  });

  it('OTEL_<SIGNAL>S_EXPORTER decides when set: otlp (default endpoint) or none', () => {
    const plan = planOtlp({ OTEL_METRICS_EXPORTER: 'otlp' });
    expect(plan.metrics?.url).toBe('http://localhost:4318/v1/metrics');
    expect(plan.traces).toBeUndefined();
    const off = planOtlp({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' });
    expect(off.metrics).toBeDefined();
    expect(off.traces).toBeUndefined();
  });

  it('OTEL_SDK_DISABLED=true turns everything off', () => {
    expect(planOtlp({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toEqual({
      warnings: [],
    });
  });

  it('reads the export interval and timeouts; the export timeout never exceeds the interval', () => {
    const plan = planOtlp({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_METRIC_EXPORT_INTERVAL: '5000',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '3000',
    });
    expect(plan.metrics).toMatchObject({ intervalMs: 5000, exportTimeoutMs: 5000, timeoutMs: 3000 });
  });

  it('warns about what it cannot honour and carries on with defaults, once per problem', () => {
    const plan = planOtlp({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_METRIC_EXPORT_INTERVAL: 'soon',
    });
    expect(plan.metrics?.url).toBe('http://localhost:4318/v1/metrics');
    expect(plan.metrics?.intervalMs).toBe(60_000);
    expect(plan.warnings).toEqual([
      'OTEL_METRICS_EXPORTER=prometheus is not supported here (only otlp and none); use faucet run --metrics-port for Prometheus',
      'OTEL_EXPORTER_OTLP_ENDPOINT is not an http(s) URL; it is ignored',
      'OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported: faucet sends OTLP over HTTP (http/json), usually port 4318',
      'OTEL_METRIC_EXPORT_INTERVAL=soon is not a positive number of milliseconds; using 60000',
    ]);
  });
});

describe('printableUrl', () => {
  it('drops credentials, query and fragment', () => {
    expect(printableUrl('https://user:pa55@otlp.example:4318/v1/metrics?api_key=k#x')).toBe(
      'https://otlp.example:4318/v1/metrics',
    );
  });
});
