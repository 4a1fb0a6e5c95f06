/**
 * What `faucet run` shows while it works, on stderr. On a terminal: one live line per matrix row
 * (status, records written, rate, pages, last checkpoint, invocations), redrawn at most 10 times a
 * second. Elsewhere (cron, CI, a pipe): plain log lines — when an invocation starts and ends, and a
 * progress line for each running invocation every few seconds.
 */
import type { JsonObject, Logger, LogLevel, ProgressEvent } from '@faucet/core';
import type { ExecutionObserver, InvocationInfo, InvocationOutcome, RowOutcome } from '@faucet/pipeline';
import { formatCount } from './numbers.js';

export interface Display extends ExecutionObserver {
  /** Print a line (a log message) without disturbing the live lines. */
  log(line: string): void;
  /** Stop redrawing; leaves the final state of the live lines on screen. */
  finish(): void;
}

export interface DisplayOptions {
  stream: NodeJS.WritableStream & { columns?: number };
  /** Live redrawn lines (a terminal) or plain log lines. */
  tty: boolean;
  /** Row ids in the order to show them. */
  rows: readonly string[];
  /** A dry run: lines say "would be written". */
  dryRun?: boolean;
  /** Plain mode: milliseconds between progress lines of a running invocation. */
  plainIntervalMs?: number;
  now?: () => number;
}

type RowState = {
  id: string;
  status: 'waiting' | 'running' | RowOutcome['status'];
  invocations: number;
  finishedInvocations: number;
  done: { recordsWritten: number; pages: number; checkpoints: number; deadLettered: number };
  active: Map<string, ProgressEvent>;
  lastCheckpointAt?: string;
  startedAt?: number;
  note?: string;
};

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const GLYPH: Record<string, string> = { waiting: '·', ok: '✔', failed: '✖', cancelled: '⊘', skipped: '–' };

const count = formatCount;
const clock = (iso: string | undefined) => (iso ? iso.slice(11, 19) : '—');
const plural = (n: number, word: string) => `${count(n)} ${word}${n === 1 ? '' : 's'}`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

function totals(state: RowState) {
  let recordsWritten = state.done.recordsWritten;
  let pages = state.done.pages;
  let deadLettered = state.done.deadLettered;
  for (const event of state.active.values()) {
    recordsWritten += event.recordsWritten;
    pages += event.pages;
    deadLettered += event.recordsDeadLettered;
  }
  return { recordsWritten, pages, deadLettered };
}

function label(info: InvocationInfo): string {
  return info.parentKey === undefined ? info.row : `${info.row}[${info.parentKey}]`;
}

export interface DescribeOptions {
  /** A dry run writes nothing: say "would be written". */
  dryRun?: boolean;
  /** Append the error (default true); the progress line leaves it to the summary, which shows it once. */
  withError?: boolean;
}

export function describeOutcome(outcome: InvocationOutcome, options: DescribeOptions = {}): string {
  const r = outcome.result;
  const verb = options.dryRun ? 'would be written' : 'written';
  const written = r
    ? `${count(r.recordsWritten)} record${r.recordsWritten === 1 ? '' : 's'} ${verb}`
    : `nothing ${verb}`;
  const details = r
    ? ` (${count(r.recordsRead)} read, ${count(r.recordsDeadLettered)} dead-lettered, ` +
      `${plural(r.pages, 'page')}, ${plural(r.checkpoints, 'checkpoint')})`
    : '';
  const status = outcome.limitReached ? 'ok (limit reached)' : outcome.status;
  const error = outcome.error && options.withError !== false ? `: ${outcome.error.message}` : '';
  return `${status}, ${written} in ${seconds(outcome.durationMs)}${details}${error}`;
}

export function createDisplay(options: DisplayOptions): Display {
  const now = options.now ?? Date.now;
  const stream = options.stream;
  const rows = new Map<string, RowState>();
  for (const id of options.rows) {
    rows.set(id, {
      id,
      status: 'waiting',
      invocations: 0,
      finishedInvocations: 0,
      done: { recordsWritten: 0, pages: 0, checkpoints: 0, deadLettered: 0 },
      active: new Map(),
    });
  }
  const rowState = (id: string): RowState => rows.get(id) as RowState;
  const width = Math.max(...options.rows.map((id) => id.length), 4);
  let drawnLines = 0;
  let frame = 0;
  let finished = false;

  const renderRow = (state: RowState): string => {
    const glyph =
      state.status === 'running' ? (SPINNER[frame % SPINNER.length] as string) : GLYPH[state.status];
    const t = totals(state);
    const elapsed = state.startedAt === undefined ? 0 : now() - state.startedAt;
    const rate =
      elapsed > 0 && state.status === 'running' ? `${count((t.recordsWritten * 1000) / elapsed)} rec/s` : '';
    const parts = [
      `${glyph} ${state.id.padEnd(width)}`,
      state.status.padEnd(9),
      `${count(t.recordsWritten).padStart(11)} written`,
      rate.padStart(14),
      `${count(t.pages).padStart(7)} pages`,
      `ckpt ${clock(state.lastCheckpointAt)}`,
    ];
    if (t.deadLettered > 0) parts.push(`${count(t.deadLettered)} dead-lettered`);
    if (state.invocations > 1) parts.push(`${state.finishedInvocations}/${state.invocations} runs`);
    if (state.note) parts.push(state.note);
    const line = parts.join('  ');
    const columns = stream.columns || 120;
    return line.length >= columns ? `${line.slice(0, Math.max(10, columns - 2))}…` : line;
  };

  const clear = (): void => {
    if (drawnLines > 0) stream.write(`\x1b[${drawnLines}F\x1b[0J`);
    drawnLines = 0;
  };
  const draw = (): void => {
    const lines = [...rows.values()].map(renderRow);
    stream.write(`${lines.join('\n')}\n`);
    drawnLines = lines.length;
  };
  const redraw = (): void => {
    try {
      clear();
      draw();
    } catch {
      // drawing never fails a run
    }
  };

  const plain = (text: string): void => {
    try {
      stream.write(`[${new Date(now()).toISOString().slice(11, 19)}] ${text}\n`);
    } catch {
      // logging never fails a run
    }
  };

  const lastPlainLine = new Map<string, number>();
  const plainInterval = options.plainIntervalMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  if (options.tty) {
    timer = setInterval(() => {
      frame++;
      redraw();
    }, 100);
    timer.unref();
    redraw();
  }

  return {
    log(line) {
      if (finished || !options.tty) {
        try {
          stream.write(`${line}\n`);
        } catch {}
        return;
      }
      try {
        clear();
        stream.write(`${line}\n`);
        draw();
      } catch {
        // drawing never fails a run
      }
    },
    rowStarted(row, invocations) {
      const state = rowState(row);
      state.status = 'running';
      state.invocations = invocations;
      state.startedAt = now();
    },
    invocationStarted(info) {
      if (!options.tty) {
        plain(`${label(info)}: started (state key ${info.stateKey})`);
        lastPlainLine.set(info.stateKey, now());
      }
    },
    progress(info, event) {
      const state = rowState(info.row);
      if (event.type === 'end') return;
      state.active.set(info.stateKey, event);
      if (event.lastCheckpointAt) state.lastCheckpointAt = event.lastCheckpointAt;
      if (!options.tty && event.type !== 'start') {
        const last = lastPlainLine.get(info.stateKey) ?? 0;
        if (now() - last >= plainInterval) {
          lastPlainLine.set(info.stateKey, now());
          plain(
            `${label(info)}: ${count(event.recordsWritten)} records ${options.dryRun ? 'would be written' : 'written'} ` +
              `(${count(event.ratePerSec)}/s), ` +
              `${plural(event.pages, 'page')}, last checkpoint ${clock(event.lastCheckpointAt)}`,
          );
        }
      }
    },
    invocationFinished(outcome) {
      const state = rowState(outcome.row);
      state.active.delete(outcome.stateKey);
      state.finishedInvocations++;
      const r = outcome.result;
      if (r) {
        state.done.recordsWritten += r.recordsWritten;
        state.done.pages += r.pages;
        state.done.checkpoints += r.checkpoints;
        state.done.deadLettered += r.recordsDeadLettered;
      }
      if (!options.tty) {
        const info = {
          row: outcome.row,
          stateKey: outcome.stateKey,
          ...(outcome.parentKey === undefined ? {} : { parentKey: outcome.parentKey }),
        };
        // The error itself is printed once, in the summary after the run.
        const detail = describeOutcome(outcome, { withError: false, dryRun: options.dryRun === true });
        plain(`${label(info)}: ${detail}${outcome.error ? ' (error below)' : ''}`);
        lastPlainLine.delete(outcome.stateKey);
      }
    },
    rowFinished(outcome) {
      const state = rowState(outcome.id);
      state.status = outcome.status;
      if (outcome.reason && outcome.status !== 'failed') state.note = outcome.reason;
      if (!options.tty && (outcome.status === 'skipped' || outcome.invocations === 0)) {
        plain(`${outcome.id}: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''}`);
      }
      if (options.tty) redraw();
    },
    finish() {
      if (finished) return;
      if (timer) clearInterval(timer);
      if (options.tty) redraw();
      finished = true;
    },
  };
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Engine and connector logs as readable lines through the display: `warn [users] message (key=value)`. */
export function createCliLogger(display: Pick<Display, 'log'>, level: LogLevel): Logger {
  const min = LEVELS[level];
  const write =
    (lvl: LogLevel) =>
    (message: string, fields?: JsonObject): void => {
      if (LEVELS[lvl] < min) return;
      const { pipeline: _p, run_id: _r, row, ...rest } = fields ?? {};
      const extra = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(', ');
      display.log(`${lvl}${row ? ` [${String(row)}]` : ''} ${message}${extra ? ` (${extra})` : ''}`);
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
