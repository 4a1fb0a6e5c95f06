/**
 * What the standard `OTEL_*` variables ask `faucet run` to export over OTLP. Pure (no SDK is
 * loaded here), so a run that asks for nothing pays nothing.
 *
 * faucet exports only when asked: a signal is on when `OTEL_<SIGNAL>S_EXPORTER` names `otlp`, or,
 * when that variable is unset, when an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT` or the
 * signal's own `OTEL_EXPORTER_OTLP_<SIGNAL>S_ENDPOINT`). `OTEL_SDK_DISABLED=true` turns both off.
 * Headers, compression, certificates and per-request timeouts are left to the exporter, which
 * reads its own variables.
 */

export type OtlpSignal = 'metrics' | 'traces';

export interface OtlpSignalPlan {
  /** Where the exporter posts, e.g. http://localhost:4318/v1/metrics. */
  url: string;
  /** The exporter's per-export timeout (OTEL_EXPORTER_OTLP_[SIGNAL_]TIMEOUT, default 10 s). */
  timeoutMs: number;
}

export interface OtlpPlan {
  metrics?: OtlpSignalPlan & { intervalMs: number; exportTimeoutMs: number };
  traces?: OtlpSignalPlan;
  /** Problems with the variables, each ignored (a default is used); printed as warnings. */
  warnings: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_BASE = 'http://localhost:4318/';
const DEFAULT_EXPORT_TIMEOUT_MS = 10_000;
const DEFAULT_METRIC_INTERVAL_MS = 60_000;
const DEFAULT_METRIC_EXPORT_TIMEOUT_MS = 30_000;

const value = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * The URL as it may be printed: scheme, host, port and path; no user, password, query or fragment
 * (an endpoint may carry credentials).
 */
export function printableUrl(text: string): string {
  try {
    const url = new URL(text);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Which signals the environment turns on, by the rules above. */
function wanted(env: Env, signal: OtlpSignal): boolean {
  const upper = signal.toUpperCase();
  const exporters = value(env, `OTEL_${upper}_EXPORTER`);
  if (exporters !== undefined) {
    return exporters
      .split(',')
      .map((e) => e.trim().toLowerCase())
      .includes('otlp');
  }
  return (
    value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined ||
    value(env, `OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`) !== undefined
  );
}

/** The endpoint as the OTLP/HTTP exporters define it: the signal's own URL as is, else base + /v1/<signal>. */
function endpoint(env: Env, signal: OtlpSignal, warnings: string[]): string {
  const upper = signal.toUpperCase();
  const specificName = `OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`;
  const specific = value(env, specificName);
  if (specific !== undefined) {
    if (isHttpUrl(specific)) return specific;
    warnings.push(`${specificName} is not an http(s) URL; it is ignored`);
  }
  const base = value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (base !== undefined) {
    if (isHttpUrl(base)) return `${base.endsWith('/') ? base : `${base}/`}v1/${signal}`;
    warnings.push('OTEL_EXPORTER_OTLP_ENDPOINT is not an http(s) URL; it is ignored');
  }
  return `${DEFAULT_BASE}v1/${signal}`;
}

function positiveMs(env: Env, name: string, fallback: number, warnings: string[]): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (Number.isFinite(n) && n > 0) return n;
  warnings.push(`${name}=${raw} is not a positive number of milliseconds; using ${fallback}`);
  return fallback;
}

function protocolWarning(env: Env, signal: OtlpSignal): string | undefined {
  const name = [`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`, 'OTEL_EXPORTER_OTLP_PROTOCOL'].find(
    (n) => value(env, n) !== undefined,
  );
  const protocol = name === undefined ? undefined : value(env, name);
  // http/protobuf is sent as http/json: OTLP/HTTP receivers (the Collector's port 4318) take both.
  if (name === undefined || protocol !== 'grpc') return undefined;
  return `${name}=grpc is not supported: faucet sends OTLP over HTTP (http/json), usually port 4318`;
}

export function planOtlp(env: Env): OtlpPlan {
  const warnings: string[] = [];
  if (value(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return { warnings };
  const plan: OtlpPlan = { warnings };
  for (const signal of ['metrics', 'traces'] as const) {
    const upper = signal.toUpperCase();
    const exporters = value(env, `OTEL_${upper}_EXPORTER`);
    const unsupported = (exporters ?? '')
      .split(',')
      .map((e) => e.trim().toLowerCase())
      .filter((e) => e !== '' && e !== 'otlp' && e !== 'none');
    if (unsupported.length > 0) {
      warnings.push(
        `OTEL_${upper}_EXPORTER=${unsupported.join(',')} is not supported here (only otlp and none)` +
          (signal === 'metrics' && unsupported.includes('prometheus')
            ? '; use faucet run --metrics-port for Prometheus'
            : ''),
      );
    }
    if (!wanted(env, signal)) continue;
    const url = endpoint(env, signal, warnings);
    const timeoutMs = positiveMs(
      env,
      value(env, `OTEL_EXPORTER_OTLP_${upper}_TIMEOUT`) !== undefined
        ? `OTEL_EXPORTER_OTLP_${upper}_TIMEOUT`
        : 'OTEL_EXPORTER_OTLP_TIMEOUT',
      DEFAULT_EXPORT_TIMEOUT_MS,
      warnings,
    );
    const protocol = protocolWarning(env, signal);
    if (protocol !== undefined) warnings.push(protocol);
    if (signal === 'traces') {
      plan.traces = { url, timeoutMs };
    } else {
      const intervalMs = positiveMs(env, 'OTEL_METRIC_EXPORT_INTERVAL', DEFAULT_METRIC_INTERVAL_MS, warnings);
      const exportTimeoutMs = Math.min(
        positiveMs(env, 'OTEL_METRIC_EXPORT_TIMEOUT', DEFAULT_METRIC_EXPORT_TIMEOUT_MS, warnings),
        intervalMs,
      );
      plan.metrics = { url, timeoutMs, intervalMs, exportTimeoutMs };
    }
  }
  plan.warnings = [...new Set(warnings)];
  return plan;
}
