/** The end-of-run summary: readable lines on stderr, or one JSON document on stdout (`--output json`). */
import type { FaucetError, JsonObject, JsonValue, Redactor } from '@faucet/core';
import type { ExecutionReport } from '@faucet/pipeline';
import { formatCount } from './numbers.js';
import { describeOutcome } from './progress.js';

function errorJson(error: FaucetError | undefined): JsonObject | undefined {
  return error ? { code: String(error.code), message: error.message } : undefined;
}

export interface SummaryContext {
  pipeline: string;
  file: string;
  mode: 'run' | 'dry-run';
  limit?: number;
  redactor: Redactor;
  /** List every invocation (when few), not only those that did not end ok. */
  listInvocations?: boolean;
}

const MAX_LISTED = 20;

/** One JSON document: the run, each row and each invocation (state key, counts, bookmark, error). */
export function summaryJson(report: ExecutionReport, ctx: SummaryContext): JsonObject {
  const doc: JsonObject = {
    pipeline: ctx.pipeline,
    file: ctx.file,
    status: report.status,
    dry_run: ctx.mode === 'dry-run',
    limit: ctx.limit ?? null,
    duration_ms: Math.round(report.durationMs),
    records_written: report.invocations.reduce((n, i) => n + (i.result?.recordsWritten ?? 0), 0),
    rows: report.rows.map((row) => {
      const out: JsonObject = { id: row.id, status: row.status, invocations: row.invocations };
      if (row.reason) out.reason = row.reason;
      const error = errorJson(row.error);
      if (error) out.error = error;
      return out;
    }),
    invocations: report.invocations.map((inv) => {
      const r = inv.result;
      const out: JsonObject = {
        row: inv.row,
        state_key: r?.stateKey ?? inv.stateKey,
        status: inv.status,
        limit_reached: inv.limitReached,
        records_read: r?.recordsRead ?? 0,
        records_written: r?.recordsWritten ?? 0,
        records_dead_lettered: r?.recordsDeadLettered ?? 0,
        pages: r?.pages ?? 0,
        checkpoints: r?.checkpoints ?? 0,
        pages_skipped: r?.pagesSkipped ?? 0,
        duration_ms: Math.round(inv.durationMs),
      };
      if (inv.parentKey !== undefined) out.parent_key = inv.parentKey;
      if (r) {
        out.run_id = r.runId;
        out.last_bookmark = (r.lastBookmark ?? null) as JsonValue;
      }
      const error = errorJson(inv.error);
      if (error) out.error = error;
      return out;
    }),
  };
  return ctx.redactor.redactValue(doc);
}

const GLYPH: Record<string, string> = { ok: '✔', failed: '✖', cancelled: '⊘', skipped: '–' };

/** Readable lines: a headline, then one line per invocation and per row that ran nothing. */
export function summaryText(report: ExecutionReport, ctx: SummaryContext): string[] {
  const lines: string[] = [];
  const counts = new Map<string, number>();
  for (const inv of report.invocations) counts.set(inv.status, (counts.get(inv.status) ?? 0) + 1);
  const written = report.invocations.reduce((n, i) => n + (i.result?.recordsWritten ?? 0), 0);
  const breakdown = [...counts.entries()].map(([status, n]) => `${n} ${status}`).join(', ');
  const what =
    ctx.mode === 'dry-run' ? 'would be written (dry run: nothing written, no state stored)' : 'written';
  lines.push(
    `${ctx.pipeline}: ${report.status} — ${report.invocations.length} invocation${report.invocations.length === 1 ? '' : 's'}` +
      `${breakdown ? ` (${breakdown})` : ''}, ${formatCount(written)} record${written === 1 ? '' : 's'} ${what} ` +
      `in ${(report.durationMs / 1000).toFixed(1)}s`,
  );
  // Every invocation when there are few and they were not logged one by one already; else the problems.
  const listAll = ctx.listInvocations === true && report.invocations.length <= MAX_LISTED;
  const listed = listAll ? report.invocations : report.invocations.filter((inv) => inv.status !== 'ok');
  for (const inv of listed.slice(0, MAX_LISTED)) {
    const key = inv.result?.stateKey ?? inv.stateKey;
    lines.push(
      `  ${GLYPH[inv.status] ?? '?'} ${key}: ${describeOutcome(inv, { dryRun: ctx.mode === 'dry-run' })}`,
    );
  }
  if (listed.length > MAX_LISTED) lines.push(`  … and ${listed.length - MAX_LISTED} more`);
  for (const row of report.rows) {
    if (row.invocations > 0 && row.status !== 'failed') continue;
    if (row.invocations > 0 && !row.reason) continue;
    const reason = row.reason ? ` (${row.reason})` : '';
    if (row.invocations === 0) lines.push(`  ${GLYPH[row.status] ?? '?'} ${row.id}: ${row.status}${reason}`);
  }
  if (report.status === 'cancelled') {
    lines.push(
      'cancelled: each running invocation finished its current page and stored its checkpoint; ' +
        'run the same command again to resume',
    );
  }
  return lines.map((line) => ctx.redactor.redact(line));
}

/** The end of a run as `faucet run` prints it: JSON on stdout with `--output json`, lines on stderr. */
export function writeSummary(
  report: ExecutionReport,
  ctx: SummaryContext,
  options: { output?: 'text' | 'json'; quiet?: boolean },
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): void {
  if (options.output === 'json') io.stdout.write(`${JSON.stringify(summaryJson(report, ctx))}\n`);
  if (options.output !== 'json' || !options.quiet) {
    for (const line of summaryText(report, ctx)) io.stderr.write(`${line}\n`);
  }
}
