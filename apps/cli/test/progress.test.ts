import type { ProgressEvent } from '@faucet/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCliLogger, createDisplay } from '../src/progress.js';

function stream(columns?: number) {
  const chunks: string[] = [];
  return {
    chunks,
    text: () => chunks.join(''),
    columns,
    write(chunk: string) {
      chunks.push(chunk);
      return true;
    },
  } as unknown as NodeJS.WritableStream & { columns?: number; chunks: string[]; text(): string };
}

const event = (fields: Partial<ProgressEvent>): ProgressEvent => ({
  type: 'page',
  pipeline: 'p',
  row: 'users',
  runId: 'r',
  pages: 0,
  recordsRead: 0,
  recordsWritten: 0,
  recordsDeadLettered: 0,
  checkpoints: 0,
  ratePerSec: 0,
  elapsedMs: 0,
  ...fields,
});

afterEach(() => {
  vi.useRealTimers();
});

describe('progress display', () => {
  it('plain mode: a line when an invocation starts and ends, progress every interval', () => {
    let now = 0;
    const out = stream();
    const display = createDisplay({
      stream: out,
      tty: false,
      rows: ['users'],
      now: () => now,
      plainIntervalMs: 5000,
    });
    const info = { row: 'users', stateKey: 'p::users' };
    display.rowStarted?.('users', 1);
    display.invocationStarted?.(info);
    for (let i = 1; i <= 100; i++) {
      now = i * 100;
      display.progress?.(
        info,
        event({ pages: i, recordsWritten: i * 10, lastCheckpointAt: '2026-01-01T12:00:03.000Z' }),
      );
    }
    display.invocationFinished?.({
      row: 'users',
      stateKey: 'p::users',
      status: 'ok',
      limitReached: false,
      durationMs: 10_000,
    });
    display.finish();
    const lines = out.text().trim().split('\n');
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] users: started \(state key p::users\)$/);
    // 10 s of events, one progress line per 5 s.
    expect(lines.filter((l) => l.includes('records written ('))).toHaveLength(2);
    expect(lines[1]).toContain('500 records written (0/s), 50 pages, last checkpoint 12:00:03');
    expect(lines.at(-1)).toContain('users: ok, nothing written in 10.0s');
  });

  it('terminal mode: one line per row, redrawn at most 10 times a second', () => {
    vi.useFakeTimers();
    const out = stream(100);
    const display = createDisplay({ stream: out, tty: true, rows: ['users', 'posts'] });
    display.rowStarted?.('users', 1);
    for (let i = 0; i < 1000; i++) {
      display.progress?.(
        { row: 'users', stateKey: 'p::users' },
        event({ pages: i, recordsWritten: i * 100 }),
      );
    }
    vi.advanceTimersByTime(1000);
    const redraws = out.chunks.filter((c) => c.startsWith('\x1b[2F')).length;
    expect(redraws).toBeLessThanOrEqual(11);
    expect(redraws).toBeGreaterThanOrEqual(9);
    display.log('warn [users] slow');
    display.finish();
    const last = out.chunks.slice(-1)[0] ?? '';
    expect(last).toContain('users  running');
    expect(last).toContain('99,900 written');
    expect(last).toContain('999 pages');
    expect(last).toContain('· posts  waiting');
    expect(out.text()).toContain('warn [users] slow\n');
    for (const line of last.split('\n')) expect(line.length).toBeLessThan(100);
  });

  it('a throwing stream never escapes', () => {
    const broken = {
      write() {
        throw new Error('EPIPE');
      },
    } as unknown as NodeJS.WritableStream;
    const display = createDisplay({ stream: broken, tty: true, rows: ['a'] });
    expect(() => display.log('x')).not.toThrow();
    expect(() => createCliLogger(display, 'info').warn('y', { row: 'a' })).not.toThrow();
    display.finish();
  });
});
