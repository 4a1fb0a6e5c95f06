// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${env:…} interpolation
/**
 * Acceptance: metrics and traces of `faucet run`, driving the built CLI.
 * - `--metrics-port` serves Prometheus' /metrics while the run lasts (port 0: the URL printed on
 *   stderr), with the engine's metrics; `--metrics-linger` keeps it up after the run for a final
 *   scrape; a port in use is exit 2 before anything is read; signals still end the process at once.
 * - The `OTEL_*` variables send metrics and spans over OTLP (http/json) to a local receiver by the
 *   time the CLI exits; a receiver that is down costs one warning and never fails the run.
 * - A plain run loads no OpenTelemetry module at all (not even the API) and prints no `metrics:` line.
 * - Secrets from the pipeline file appear in no label, resource or exported body.
 */
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  cleanupTempDirs,
  countLines,
  fakePluginDir,
  readJsonl,
  runCli,
  startCli,
  tempDir,
  waitFor,
  write,
  writeCsv,
} from './helpers.js';

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

const TOKEN = 'tok_metrics_5ecret_81f2';
const API_KEY = 'otlp-key-3c9d27';

/** The test runner's own OTEL_* variables must not leak into the runs under test. */
const NO_OTEL: NodeJS.ProcessEnv = Object.fromEntries(
  Object.keys(process.env)
    .filter((k) => k.startsWith('OTEL_'))
    .map((k) => [k, undefined]),
);

/** A pipeline of `count` records from the fake source (pages of 100, `delayMs` each) into a JSONL file. */
function fakePipeline(
  name: string,
  count: number,
  delayMs: number,
  extra = '',
): { dir: string; env: NodeJS.ProcessEnv } {
  const plugins = fakePluginDir();
  const dir = tempDir('faucet-metrics-');
  write(
    join(dir, 'faucet.yaml'),
    `version: 1
name: ${name}
pipeline:
  source:
    type: fake
    config: { count: ${count}, delay_ms: ${delayMs}, token: "\${env:METRICS_TOKEN}"${extra} }
  sink: { type: file, config: { path: ./out/rows.jsonl, format: jsonl } }
  state: { type: file, config: { path: ./state } }
  batch_size: 100
`,
  );
  return { dir, env: { ...NO_OTEL, FAUCET_PLUGIN_PATH: plugins, METRICS_TOKEN: TOKEN } };
}

/** A CSV -> JSONL pipeline with `rows` rows. */
function filePipeline(name: string, rows: number): string {
  const dir = tempDir('faucet-metrics-');
  writeCsv(join(dir, 'in.csv'), 1, rows);
  write(
    join(dir, 'faucet.yaml'),
    `version: 1
name: ${name}
pipeline:
  source: { type: file, config: { path: in.csv, format: csv } }
  sink: { type: file, config: { path: out/rows.jsonl, format: jsonl } }
  state: { type: file, config: { path: state } }
  batch_size: 250
`,
  );
  return dir;
}

const METRICS_LINE = /^metrics: (http:\/\/127\.0\.0\.1:(\d+)\/metrics)$/m;

/** The value of one sample in Prometheus text format whose labels include `labels`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

async function scrape(url: string): Promise<{ status: number; type: string | null; body: string }> {
  const response = await fetch(url);
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('faucet run --metrics-port (Prometheus)', () => {
  it('serves /metrics while the run lasts and, with --metrics-linger, the final values after it', async () => {
    const ROWS = 3_000;
    const { dir, env } = fakePipeline('metered', ROWS, 40);
    // A linger far longer than the test needs (a loaded machine may take seconds to scrape); SIGINT
    // ends it once the final values were read.
    const run = startCli(['run', '--metrics-port', '0', '--metrics-linger', '120'], { cwd: dir, env });
    await waitFor(() => METRICS_LINE.test(run.output().stderr), 'the metrics line');
    const url = (METRICS_LINE.exec(run.output().stderr) as RegExpExecArray)[1] as string;

    // During the run (30 pages of 40 ms), /metrics answers.
    const during = await scrape(url);
    expect(during.status).toBe(200);
    expect(during.type).toMatch(/^text\/plain/);
    expect((await fetch(url.replace('/metrics', '/other'))).status).toBe(404);

    await waitFor(() => run.output().stderr.includes('still serving'), 'the run to end', 60_000);
    expect(run.output().stderr).toContain(`metrics: still serving ${url} for 120s (--metrics-linger)`);
    const after = await scrape(url);
    const labels = { pipeline: 'metered', row: 'row-0', connector: 'fake' };
    expect(sample(after.body, 'faucet_source_records_total', labels)).toBe(ROWS);
    expect(sample(after.body, 'faucet_source_pages_total', labels)).toBe(ROWS / 100);
    expect(sample(after.body, 'faucet_sink_records_total', { ...labels, connector: 'file' })).toBe(ROWS);
    expect(sample(after.body, 'faucet_state_put_total', { ...labels, connector: 'file' })).toBe(ROWS / 100);
    expect(sample(after.body, 'faucet_pipeline_runs_total', { ...labels, status: 'ok' })).toBe(1);
    expect(sample(after.body, 'faucet_sink_write_duration_count', { ...labels, connector: 'file' })).toBe(
      ROWS / 100,
    );
    // Labels are pipeline, row, connector (and status): nothing from the connector configs.
    expect(after.body).not.toContain(TOKEN);
    expect(after.body).not.toMatch(/run_id|delay_ms/);

    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(countLines(join(dir, 'out', 'rows.jsonl'))).toBe(ROWS);
    expect(result.stderr).not.toContain(TOKEN);
    // The server went away with the run.
    await expect(fetch(url)).rejects.toThrow();
  });

  it('a failed run still serves its metrics (status="failed") and stops the server', async () => {
    const { dir, env } = fakePipeline('broken', 1_000, 0, ', fail_after: 500');
    const run = startCli(['run', '--metrics-port', '0', '--metrics-linger', '120'], { cwd: dir, env });
    await waitFor(() => run.output().stderr.includes('still serving'), 'the run to end');
    const url = (METRICS_LINE.exec(run.output().stderr) as RegExpExecArray)[1] as string;
    const { body } = await scrape(url);
    const labels = { pipeline: 'broken', row: 'row-0', connector: 'fake' };
    expect(sample(body, 'faucet_source_records_total', labels)).toBe(500);
    expect(sample(body, 'faucet_source_errors_total', labels)).toBe(1);
    expect(sample(body, 'faucet_pipeline_runs_total', { ...labels, status: 'failed' })).toBe(1);
    expect(sample(body, 'faucet_pipeline_runs_total', { ...labels, status: 'ok' })).toBeUndefined();
    run.child.kill('SIGINT');
    const result = await run.done;
    // SIGINT only ends the linger: the exit code is still the failed run's.
    expect(result.code, result.stderr).toBe(1);
    await expect(fetch(url)).rejects.toThrow();
  });

  it('a port in use is exit 2 naming the port, before anything is read', async () => {
    const blocker = createServer();
    const port = await listen(blocker);
    try {
      const dir = filePipeline('busy', 10);
      const result = await runCli(['run', '--metrics-port', String(port)], { cwd: dir, env: NO_OTEL });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `faucet: --metrics-port ${port}: port ${port} is already in use on 127.0.0.1`,
      );
      expect(readJsonl(join(dir, 'out', 'rows.jsonl'))).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('rejects bad metrics flags with exit 2', async () => {
    const dir = filePipeline('flags', 10);
    const linger = await runCli(['run', '--metrics-linger', '2'], { cwd: dir, env: NO_OTEL });
    expect(linger.code).toBe(2);
    expect(linger.stderr).toContain('--metrics-linger needs --metrics-port');
    const port = await runCli(['run', '--metrics-port', '70000'], { cwd: dir, env: NO_OTEL });
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--metrics-port must be a port number from 0 to 65535, got "70000"');
    expect(readJsonl(join(dir, 'out', 'rows.jsonl'))).toEqual([]);
  });

  it('SIGINT during the run: no linger, exit 130 at once; SIGINT during the linger ends it (exit 0)', async () => {
    const { dir, env } = fakePipeline('stopped', 1_000_000, 20);
    const run = startCli(['run', '--metrics-port', '0', '--metrics-linger', '60'], { cwd: dir, env });
    await waitFor(() => countLines(join(dir, 'out', 'rows.jsonl')) >= 500, 'the run to be under way');
    const url = (METRICS_LINE.exec(run.output().stderr) as RegExpExecArray)[1] as string;
    expect((await scrape(url)).status).toBe(200);
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
    // Stopped at the signal, not at the end of the million rows.
    expect(countLines(join(dir, 'out', 'rows.jsonl'))).toBeLessThan(1_000_000);
    expect(result.stderr).not.toContain('still serving');

    const { dir: dir2, env: env2 } = fakePipeline('lingering', 200, 0);
    const second = startCli(['run', '--metrics-port', '0', '--metrics-linger', '600'], {
      cwd: dir2,
      env: env2,
    });
    await waitFor(() => second.output().stderr.includes('still serving'), 'the linger');
    // The linger is 10 minutes: only the signal can end it within the test's time (2 minutes).
    second.child.kill('SIGINT');
    const lingered = await second.done;
    expect(lingered.code, lingered.stderr).toBe(0);
  });
});

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local OTLP/HTTP receiver that records every POST. */
async function otlpReceiver(): Promise<{ url: string; received: Received[]; close: () => void }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, received, close: () => server.close() };
}

type OtlpAttributes = Array<{ key: string; value: { stringValue?: string } }>;
interface OtlpMetric {
  name: string;
  sum?: { dataPoints: Array<{ attributes: OtlpAttributes; asDouble?: number; asInt?: string | number }> };
}

function otlpMetrics(bodies: string[]): OtlpMetric[] {
  return bodies.flatMap((body) => {
    const doc = JSON.parse(body) as {
      resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: OtlpMetric[] }> }>;
    };
    return doc.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
  });
}

const attrs = (list: OtlpAttributes) => Object.fromEntries(list.map((a) => [a.key, a.value.stringValue]));

describe('faucet run with OTEL_* variables (OTLP)', () => {
  it('sends the metrics and spans of a short run by the time it exits', async () => {
    const receiver = await otlpReceiver();
    try {
      const { dir, env } = fakePipeline('otlp_run', 1_000, 0);
      const result = await runCli(['run'], {
        cwd: dir,
        env: {
          ...env,
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${API_KEY}`,
        },
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(
        `metrics: OTLP (http/json) to ${receiver.url}/v1/metrics every 60s and at the end`,
      );
      expect(result.stderr).toContain(`traces: OTLP (http/json) to ${receiver.url}/v1/traces`);
      expect(result.stderr).not.toContain('warn');
      expect(`${result.stdout}${result.stderr}`).not.toContain(TOKEN);
      expect(`${result.stdout}${result.stderr}`).not.toContain(API_KEY);
      // The pipeline's secret is in no exported attribute, resource or span.
      expect(receiver.received.map((r) => r.body).join('\n')).not.toContain(TOKEN);

      const metricPosts = receiver.received.filter((r) => r.path === '/v1/metrics');
      expect(metricPosts.length).toBeGreaterThan(0);
      expect(metricPosts[0]?.headers['content-type']).toBe('application/json');
      // OTEL_EXPORTER_OTLP_HEADERS is the exporter's own business, and it honours it.
      expect(metricPosts[0]?.headers['x-api-key']).toBe(API_KEY);
      const records = otlpMetrics(metricPosts.map((p) => p.body)).filter(
        (m) => m.name === 'faucet.source.records',
      );
      const points = records.flatMap((m) => m.sum?.dataPoints ?? []);
      const point = points.find((p) => attrs(p.attributes).pipeline === 'otlp_run');
      expect(attrs(point?.attributes ?? [])).toEqual({
        pipeline: 'otlp_run',
        row: 'row-0',
        connector: 'fake',
      });
      expect(Number(point?.asDouble ?? point?.asInt)).toBe(1_000);
      const runs = otlpMetrics(metricPosts.map((p) => p.body))
        .filter((m) => m.name === 'faucet.pipeline.runs')
        .flatMap((m) => m.sum?.dataPoints ?? []);
      expect(runs.map((p) => attrs(p.attributes).status)).toEqual(['ok']);

      const tracePosts = receiver.received.filter((r) => r.path === '/v1/traces');
      const spans = tracePosts.flatMap((p) =>
        (
          JSON.parse(p.body) as {
            resourceSpans: Array<{
              scopeSpans: Array<{ spans: Array<{ name: string; attributes: OtlpAttributes }> }>;
            }>;
          }
        ).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)),
      );
      const runSpan = spans.find((s) => s.name === 'faucet.pipeline.run');
      expect(attrs(runSpan?.attributes ?? [])).toMatchObject({ pipeline: 'otlp_run', row: 'row-0' });
      expect(spans.some((s) => s.name === 'faucet.sink.write')).toBe(true);
    } finally {
      receiver.close();
    }
  });

  it('OTEL_METRICS_EXPORTER=otlp with only a metrics endpoint sends metrics and no spans', async () => {
    const receiver = await otlpReceiver();
    try {
      const dir = filePipeline('otlp_metrics_only', 10);
      const result = await runCli(['run', '-q'], {
        cwd: dir,
        env: {
          ...NO_OTEL,
          OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/custom/metrics`,
        },
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toContain('traces:');
      expect(receiver.received.map((r) => r.path)).toEqual(['/custom/metrics']);
    } finally {
      receiver.close();
    }
  });

  it('a receiver that is down never fails the run: exit 0 and one warning', async () => {
    const port = await closedPort();
    const dir = filePipeline('otlp_down', 500);
    const result = await runCli(['run'], {
      cwd: dir,
      env: { ...NO_OTEL, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(readJsonl(join(dir, 'out', 'rows.jsonl'))).toHaveLength(500);
    const warnings = result.stderr.split('\n').filter((line) => line.startsWith('warn'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(
        `^warn OTLP (metrics|traces) export to http://127\\.0\\.0\\.1:${port}/v1/\\w+ failed \\(.+\\)`,
      ),
    );
  });
});

describe('a plain faucet run', () => {
  it('loads no OpenTelemetry module, not even the API, and prints no metrics line', async () => {
    // A module-resolution hook that logs every @opentelemetry module the CLI imports.
    const probe = tempDir('faucet-probe-');
    const log = join(probe, 'modules.log');
    write(
      join(probe, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (result.url.includes('@opentelemetry')) appendFileSync(${JSON.stringify(log)}, result.url + '\\n');
  return result;
}
`,
    );
    write(
      join(probe, 'register.mjs'),
      `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`,
    );
    const env = { ...NO_OTEL, NODE_OPTIONS: `--import=${join(probe, 'register.mjs')}` };
    const loaded = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');

    const dir = filePipeline('plain', 100);
    const plain = await runCli(['run'], { cwd: dir, env });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).not.toMatch(/^(metrics|traces):/m);
    expect(readJsonl(join(dir, 'out', 'rows.jsonl'))).toHaveLength(100);
    // Nothing registered with the API: the engine does no telemetry work and does not load it.
    expect(loaded()).toBe('');

    // The probe does see the API and the SDK when they are asked for.
    const metered = await runCli(['run', '--metrics-port', '0'], { cwd: filePipeline('metered2', 10), env });
    expect(metered.code, metered.stderr).toBe(0);
    expect(metered.stderr).toMatch(METRICS_LINE);
    expect(loaded()).toMatch(/sdk-metrics/);
    expect(loaded()).toMatch(/exporter-prometheus/);
    expect(loaded()).toContain('@opentelemetry/api');
  });
});
