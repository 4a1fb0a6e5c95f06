/**
 * Acceptance (source-rest, time windows): "a window backfill killed mid-way resumes at the first
 * unfinished window and writes every record once", with a real SIGKILL of the built CLI.
 *
 * A loopback HTTP server serves 40 one-day windows of 500 records each (`GET /events?since&until`,
 * page_number pagination, 3 pages per window, a short delay per request). The first run is killed at
 * a random moment once the file state store shows some windows done; the rerun must start at the
 * first window that was not stored as completed, lose nothing and repeat at most that one window;
 * a third run writes nothing.
 */
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  cleanupTempDirs,
  readStateDir,
  runCli,
  sleep,
  startCli,
  tempDir,
  waitFor,
  write,
} from './helpers.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WINDOWS = 40;
const PER_WINDOW = 500;
const PAGE_SIZE = 200; // 200 + 200 + 100: three requests per window
const DELAY_MS = 25;
const TOTAL = WINDOWS * PER_WINDOW;
const STATE_KEY = 'restwin::row-0';

// 40 full windows, then a partial one (1 to 2 hours up to now) that holds no records.
const START_MS = Math.floor(Date.now() / HOUR) * HOUR - WINDOWS * DAY - HOUR;
const START = new Date(START_MS).toISOString();

interface Event {
  id: number;
  ts: string;
}
interface Request {
  since: string;
  until: string;
  page: number;
}

// Record n of window w: id w*500+n, spread evenly over the window's day.
const EVENTS: Array<Event & { ms: number }> = [];
for (let w = 0; w < WINDOWS; w++) {
  for (let n = 0; n < PER_WINDOW; n++) {
    const ms = START_MS + w * DAY + Math.floor((n * DAY) / PER_WINDOW);
    EVENTS.push({ id: w * PER_WINDOW + n, ts: new Date(ms).toISOString(), ms });
  }
}

/** The window (0-based) an id or a window start belongs to. */
const windowOfId = (id: number) => Math.floor(id / PER_WINDOW);
const windowOfStart = (iso: string) => (Date.parse(iso) - START_MS) / DAY;

const requests: Request[] = [];
let server: Server;
let baseUrl = '';

beforeAll(async () => {
  assertBuilt();
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const since = url.searchParams.get('since') ?? '';
    const until = url.searchParams.get('until') ?? '';
    const page = Number(url.searchParams.get('page') ?? '1');
    const perPage = Number(url.searchParams.get('per_page') ?? '100');
    const from = Date.parse(since);
    const to = Date.parse(until);
    if (url.pathname !== '/events' || !Number.isFinite(from) || !Number.isFinite(to) || !(page >= 1)) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `bad request ${req.url}` }));
      return;
    }
    requests.push({ since, until, page });
    const inWindow = EVENTS.filter((e) => e.ms >= from && e.ms < to);
    const data = inWindow.slice((page - 1) * perPage, page * perPage).map(({ id, ts }) => ({ id, ts }));
    setTimeout(() => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data }));
    }, DELAY_MS);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  cleanupTempDirs();
});

/** The stored `completed` window start, or undefined when nothing is stored yet. */
function completedWindow(stateDir: string): string | null | undefined {
  const entry = readStateDir(stateDir)[STATE_KEY];
  if (entry === undefined) return undefined;
  return (entry.bookmark as { slices: { completed: string | null } }).slices.completed;
}

/** The ids in the output file; a line torn by the kill is not a record (at most one). */
function readIds(file: string, text: string): number[] {
  const lines = text.split('\n').filter(Boolean);
  const ids: number[] = [];
  for (const line of lines) {
    try {
      ids.push((JSON.parse(line) as { id: number }).id);
    } catch {
      // counted below
    }
  }
  expect(lines.length - ids.length, `torn lines in ${file}`).toBeLessThanOrEqual(1);
  return ids;
}

describe('faucet run with a REST window backfill, killed with SIGKILL mid-run', () => {
  it('resumes at the first unfinished window: nothing lost, at most that window twice', async () => {
    const dir = tempDir('faucet-rest-window-');
    write(
      join(dir, 'pipeline.yaml'),
      `version: 1
name: restwin
pipeline:
  source:
    type: rest
    config:
      base_url: "${baseUrl}"
      path: /events
      records_path: $.data
      pagination: { type: page_number, param: page, page_size: ${PAGE_SIZE}, page_size_param: per_page }
      window: { field_param_start: since, field_param_end: until, size: 1d, start: "${START}" }
      retry_backoff_ms: 50
  sink: { type: file, config: { path: ./out/events.jsonl, format: jsonl, mode: append } }
  state: { type: file, config: { path: ./state } }
`,
    );
    const out = join(dir, 'out', 'events.jsonl');
    const stateDir = join(dir, 'state');
    const readOut = () => (existsSync(out) ? readFileSync(out, 'utf8') : '');

    // Run 1: killed at a random moment after a few windows were checkpointed.
    const first = startCli(['run', 'pipeline.yaml'], { cwd: dir, lowPriority: true });
    await waitFor(() => {
      const done = completedWindow(stateDir);
      return typeof done === 'string' && windowOfStart(done) >= 2;
    }, 'the first run to checkpoint a few windows');
    await sleep(randomInt(0, 600));
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal, `${killed.stdout}\n${killed.stderr}`).toBe('SIGKILL');

    const completedAtKill = completedWindow(stateDir);
    expect(typeof completedAtKill).toBe('string');
    const doneWindows = windowOfStart(completedAtKill as string) + 1; // windows 0..doneWindows-1
    expect(Number.isInteger(doneWindows)).toBe(true);
    expect(doneWindows, 'the kill came after the backfill had finished; make the run slower').toBeLessThan(
      WINDOWS,
    );
    const idsBeforeKill = readIds(out, readOut());
    // Every stored checkpoint covers rows already on disk.
    expect(idsBeforeKill.length).toBeGreaterThanOrEqual(doneWindows * PER_WINDOW);
    const firstRunRequests = requests.length;

    // Run 2: to the end.
    const second = await runCli(['run', 'pipeline.yaml', '--output', 'json'], {
      cwd: dir,
      timeoutMs: 60_000,
    });
    expect(second.code, second.stderr).toBe(0);
    const secondRequests = requests.slice(firstRunRequests);
    const resumeAt = new Date(START_MS + doneWindows * DAY).toISOString();
    // It starts at the first window not stored as completed, on its first page, and never goes back.
    expect(secondRequests[0]).toEqual({
      since: resumeAt,
      until: new Date(START_MS + (doneWindows + 1) * DAY).toISOString(),
      page: 1,
    });
    expect(secondRequests.filter((r) => Date.parse(r.since) < Date.parse(resumeAt))).toEqual([]);

    const ids = readIds(out, readOut());
    const seen = new Map<number, number>();
    for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
    const missing = EVENTS.filter((e) => !seen.has(e.id)).map((e) => e.id);
    expect(missing).toEqual([]);
    expect(seen.size).toBe(TOTAL);
    const duplicates = ids.length - TOTAL;
    expect(duplicates).toBeLessThanOrEqual(PER_WINDOW);
    const duplicatedWindows = new Set(
      [...seen].filter(([, count]) => count > 1).map(([id]) => windowOfId(id)),
    );
    for (const [, count] of seen) expect(count).toBeLessThanOrEqual(2);
    // Only the window that was in progress at the kill (the first unfinished one) may repeat.
    expect([...duplicatedWindows].filter((w) => w !== doneWindows)).toEqual([]);
    expect(duplicates).toBe(idsBeforeKill.length - doneWindows * PER_WINDOW);
    const summary = JSON.parse(second.stdout) as { status: string; records_written: number };
    expect(summary.status).toBe('ok');
    expect(summary.records_written).toBe((WINDOWS - doneWindows) * PER_WINDOW);
    expect(completedWindow(stateDir)).toBe(new Date(START_MS + (WINDOWS - 1) * DAY).toISOString());

    // Run 3: everything is stored as done; only the partial window up to now is asked for again.
    const beforeThird = requests.length;
    const third = await runCli(['run', 'pipeline.yaml', '--output', 'json'], { cwd: dir });
    expect(third.code, third.stderr).toBe(0);
    expect((JSON.parse(third.stdout) as { records_written: number }).records_written).toBe(0);
    const thirdRequests = requests.slice(beforeThird);
    expect(thirdRequests.length).toBeGreaterThan(0);
    for (const r of thirdRequests)
      expect(Date.parse(r.since)).toBeGreaterThanOrEqual(START_MS + WINDOWS * DAY);
    expect(readIds(out, readOut())).toHaveLength(ids.length);
  });
});
