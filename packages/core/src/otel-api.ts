/**
 * `@opentelemetry/api`, loaded only when something registered with it. The API keeps whatever a host
 * registers (meter or tracer provider, context manager, propagator, diagnostic logger) in one global
 * object under `Symbol.for('opentelemetry.js.api.<major>')`, so that every copy of the package in a
 * process shares it; until that object exists every API call is a no-op. Loading the package costs
 * ~47 modules, ~20 ms and ~7 MiB of RSS per process (BENCHMARKS.md, "Start-up and memory"), so a run
 * that nobody observes skips it and does no telemetry work at all.
 */
import { createRequire } from 'node:module';

export type OpenTelemetryApi = typeof import('@opentelemetry/api');

/** The global the API 1.x registers under (`src/internal/global-utils.ts` of @opentelemetry/api). */
const GLOBAL_KEY = Symbol.for('opentelemetry.js.api.1');
let loaded: OpenTelemetryApi | undefined;

/** The API when a host registered anything with it (telemetry is wanted), else undefined. */
export function openTelemetryApi(): OpenTelemetryApi | undefined {
  if (loaded) return loaded;
  if ((globalThis as Record<symbol, unknown>)[GLOBAL_KEY] === undefined) return undefined;
  loaded = createRequire(import.meta.url)('@opentelemetry/api') as OpenTelemetryApi;
  return loaded;
}
