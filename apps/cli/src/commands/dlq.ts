/**
 * `faucet dlq inspect|replay`. Both read the JSON-lines file a `file` DLQ sink writes, streaming it
 * line by line. `inspect` summarises it by error kind; `replay` sends each dead-lettered payload
 * (already transformed) back to its row's main sink, writes rows that fail again to
 * `<dlq>.replay-failed.jsonl`, and then renames the DLQ file to `<dlq>.replayed-<time>.jsonl` so a
 * second replay does not send the same rows again.
 */
import { createReadStream, existsSync } from 'node:fs';
import { appendFile, open, rename } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import {
  composeTransforms,
  type DlqEnvelope,
  errorKind,
  errorMessage,
  type FaucetRecord,
  type JsonObject,
  type Sink,
  type SinkDescriptor,
  safeLogger,
  unwrapEnvelope,
} from '@faucet/core';
import { type LoadedPipeline, type LoadedRow, loadPipeline, UsageError } from '@faucet/pipeline';
import { cliHost } from '../cli-package.js';
import { type CliIo, ExitCode, writeLine } from '../io.js';
import { createCliLogger } from '../progress.js';
import { enterConfigDir } from './common.js';

export interface DlqFile {
  path: string;
  rows: string[];
}

/** The JSONL files the file DLQ sinks of these rows write (resolved against the pipeline file). */
export function dlqFiles(pipeline: LoadedPipeline, rowId: string | undefined): DlqFile[] {
  const rows = rowId === undefined ? pipeline.rows : pipeline.rows.filter((r) => r.id === rowId);
  if (rowId !== undefined && rows.length === 0)
    throw new UsageError(`no row "${rowId}" in ${pipeline.displayFile}`);
  const files = new Map<string, DlqFile>();
  const problems: string[] = [];
  for (const row of rows) {
    const dlq = row.connectors.dlq;
    if (!dlq) continue;
    const config = dlq.config as { path?: unknown; format?: unknown } | undefined;
    if (dlq.descriptor.id !== 'file' || typeof config?.path !== 'string') {
      problems.push(`row "${row.id}": its dlq sink is "${dlq.spec.type}"; dlq commands read file DLQs only`);
      continue;
    }
    if (config.format !== undefined && config.format !== 'jsonl') {
      problems.push(`row "${row.id}": its dlq file is ${String(config.format)}; dlq commands read jsonl`);
      continue;
    }
    const path = isAbsolute(config.path) ? config.path : resolve(pipeline.dir, config.path);
    const entry = files.get(path) ?? { path, rows: [] };
    entry.rows.push(row.id);
    files.set(path, entry);
  }
  if (files.size === 0) {
    throw new UsageError(
      problems.length > 0
        ? problems.join('\n')
        : `${pipeline.displayFile} configures no dlq (pipeline.dlq.sink)`,
    );
  }
  return [...files.values()];
}

/** Each envelope of a DLQ file, in order; malformed lines are counted, not thrown. */
async function* readEnvelopes(path: string): AsyncGenerator<{ line: number; envelope?: JsonObject }> {
  if (!existsSync(path)) return;
  const lines = createInterface({
    input: createReadStream(path, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let n = 0;
  for await (const text of lines) {
    n++;
    if (!text.trim()) continue;
    try {
      const value = JSON.parse(text) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        yield { line: n, envelope: value as JsonObject };
        continue;
      }
    } catch {
      // counted as malformed below
    }
    yield { line: n };
  }
}

interface KindSummary {
  count: number;
  first_message: string;
}

export async function summariseDlq(path: string, limit: number) {
  const kinds = new Map<string, KindSummary>();
  const rows = new Map<string, number>();
  const reasons = new Map<string, number>();
  const samples: JsonObject[] = [];
  let total = 0;
  let malformed = 0;
  let firstTs: number | undefined;
  let lastTs: number | undefined;
  for await (const { envelope } of readEnvelopes(path)) {
    if (!envelope) {
      malformed++;
      continue;
    }
    total++;
    const error = (envelope.error ?? {}) as { kind?: unknown; message?: unknown };
    const kind = typeof error.kind === 'string' ? error.kind : 'UNKNOWN';
    const entry = kinds.get(kind) ?? { count: 0, first_message: String(error.message ?? '').slice(0, 300) };
    entry.count++;
    kinds.set(kind, entry);
    const row = typeof envelope.row === 'string' ? envelope.row : '';
    rows.set(row, (rows.get(row) ?? 0) + 1);
    const reason = typeof envelope.reason === 'string' ? envelope.reason : 'unknown';
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    if (typeof envelope.ts_ms === 'number') {
      firstTs = firstTs === undefined ? envelope.ts_ms : Math.min(firstTs, envelope.ts_ms);
      lastTs = lastTs === undefined ? envelope.ts_ms : Math.max(lastTs, envelope.ts_ms);
    }
    if (samples.length < limit) samples.push(envelope);
  }
  const byCount = <T extends { count: number } | number>(m: Map<string, T>) =>
    [...m.entries()].sort((a, b) => {
      const ca = typeof a[1] === 'number' ? a[1] : a[1].count;
      const cb = typeof b[1] === 'number' ? b[1] : b[1].count;
      return cb - ca;
    });
  return {
    file: path,
    exists: existsSync(path),
    total,
    malformed_lines: malformed,
    first_at: firstTs === undefined ? null : new Date(firstTs).toISOString(),
    last_at: lastTs === undefined ? null : new Date(lastTs).toISOString(),
    by_kind: byCount(kinds).map(([kind, s]) => ({ kind, count: s.count, first_message: s.first_message })),
    by_row: byCount(rows).map(([row, count]) => ({ row, count })),
    by_reason: byCount(reasons).map(([reason, count]) => ({ reason, count })),
    samples,
  };
}

export async function dlqInspectCommand(
  config: string | undefined,
  options: { limit: number; row?: string; output?: 'text' | 'json' },
  io: CliIo,
): Promise<number> {
  const pipeline = await loadPipeline(config, { env: io.env, cwd: io.cwd, host: cliHost() });
  const files = dlqFiles(pipeline, options.row);
  const summaries = [];
  for (const file of files) summaries.push(await summariseDlq(file.path, options.limit));
  const redact = pipeline.redactor;
  if (options.output === 'json') {
    writeLine(io.stdout, JSON.stringify(redact.redactValue({ pipeline: pipeline.name, files: summaries })));
    return ExitCode.ok;
  }
  for (const s of summaries) {
    if (!s.exists) {
      writeLine(io.stdout, `${s.file}: no dead letters (the file does not exist)`);
      continue;
    }
    writeLine(
      io.stdout,
      `${s.file}: ${s.total} dead-lettered record${s.total === 1 ? '' : 's'}` +
        (s.first_at ? ` from ${s.first_at} to ${s.last_at}` : '') +
        (s.malformed_lines > 0 ? `; ${s.malformed_lines} malformed lines skipped` : ''),
    );
    if (s.total === 0) continue;
    writeLine(io.stdout, '  by error kind:');
    for (const k of s.by_kind)
      writeLine(
        io.stdout,
        redact.redact(`    ${String(k.count).padStart(7)}  ${k.kind}: ${k.first_message}`),
      );
    writeLine(io.stdout, `  by row: ${s.by_row.map((r) => `${r.row || '(none)'} ${r.count}`).join(', ')}`);
    writeLine(io.stdout, `  by reason: ${s.by_reason.map((r) => `${r.reason} ${r.count}`).join(', ')}`);
    if (s.samples.length > 0) {
      writeLine(io.stdout, `  first ${s.samples.length}:`);
      for (const sample of s.samples)
        writeLine(io.stdout, `    ${JSON.stringify(redact.redactValue(sample))}`);
    }
  }
  return ExitCode.ok;
}

function replayFailedPath(path: string): string {
  return `${path.replace(/\.jsonl$/, '')}.replay-failed.jsonl`;
}

function archivePath(path: string): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${path.replace(/\.jsonl$/, '')}.replayed-${stamp}.jsonl`;
}

interface Pending {
  envelopes: JsonObject[];
  records: FaucetRecord[];
}

/** The row's transforms applied to one record (map, explode or filter), as a run applies them. */
function applyRowTransforms(row: LoadedRow, record: FaucetRecord): FaucetRecord[] {
  return row.transformFns.length === 0 ? [record] : composeTransforms(row.transformFns)(record);
}

export async function dlqReplayCommand(
  config: string | undefined,
  options: { row?: string; output?: 'text' | 'json' },
  io: CliIo,
): Promise<number> {
  const pipeline = await loadPipeline(config, { env: io.env, cwd: io.cwd, host: cliHost() });
  const files = dlqFiles(pipeline, options.row);
  enterConfigDir(pipeline);
  const redactor = pipeline.redactor;
  const logger = safeLogger(createCliLogger({ log: (line) => writeLine(io.stderr, line) }, 'warn'), redactor);
  const sinks = new Map<string, Sink>();
  const results: JsonObject[] = [];
  let failedOverall = false;

  const sinkFor = async (row: LoadedRow): Promise<Sink> => {
    let sink = sinks.get(row.id);
    if (!sink) {
      const connector = row.connectors.sink;
      if (connector.templated) {
        throw new UsageError(
          `row "${row.id}" writes to a sink configured per parent record; its rows cannot be replayed`,
        );
      }
      sink = await (connector.descriptor as SinkDescriptor<unknown>).create(connector.config, {
        logger,
        redactor,
      });
      sinks.set(row.id, sink);
    }
    return sink;
  };

  try {
    for (const file of files) {
      if (!existsSync(file.path)) {
        results.push({ file: file.path, replayed: 0, failed: 0, note: 'no DLQ file' });
        continue;
      }
      const failedPath = replayFailedPath(file.path);
      let replayed = 0;
      let refailed = 0;
      const fail = async (envelope: JsonObject, error: unknown) => {
        refailed++;
        const again: DlqEnvelope | JsonObject = {
          ...envelope,
          error: { kind: errorKind(error), message: redactor.redact(errorMessage(error)) },
          ts_ms: Date.now(),
        };
        await appendFile(failedPath, `${JSON.stringify(again)}\n`);
      };
      const pending = new Map<string, Pending>();
      const flushRow = async (rowId: string) => {
        const batch = pending.get(rowId);
        if (!batch || batch.records.length === 0) return;
        pending.delete(rowId);
        const row = pipeline.rowsById.get(rowId) as LoadedRow;
        try {
          const sink = await sinkFor(row);
          const result = await sink.write(batch.records, { signal: new AbortController().signal, logger });
          const failures = new Map((result?.failed ?? []).map((f) => [f.index, f.error]));
          for (let i = 0; i < batch.records.length; i++) {
            if (failures.has(i)) await fail(batch.envelopes[i] as JsonObject, failures.get(i));
            else replayed++;
          }
        } catch (error) {
          for (const envelope of batch.envelopes) await fail(envelope, error);
        }
      };

      for await (const { line, envelope } of readEnvelopes(file.path)) {
        const payload = envelope ? unwrapEnvelope(envelope) : undefined;
        const rowId = typeof envelope?.row === 'string' ? envelope.row : '';
        const row =
          pipeline.rowsById.get(rowId) ?? (pipeline.rows.length === 1 ? pipeline.rows[0] : undefined);
        if (envelope?.reason === 'source') {
          // Nothing could be decoded: there is no record to send. Fix the input and read it again.
          await fail(
            envelope,
            new Error(`line ${line} holds a record the source could not decode; it cannot be replayed`),
          );
          continue;
        }
        if (!envelope || !payload) {
          await fail(envelope ?? { line }, new Error(`line ${line} is not a DLQ envelope with a payload`));
          continue;
        }
        if (!row || !file.rows.includes(row.id)) {
          await fail(
            envelope,
            new Error(`row "${rowId}" is not a row of ${pipeline.displayFile} writing this DLQ`),
          );
          continue;
        }
        // A transform rejected it: the payload is the record as read, so the row's transforms run again.
        let records: FaucetRecord[] = [payload];
        if (envelope.reason === 'transform') {
          try {
            records = applyRowTransforms(row, payload);
          } catch (error) {
            await fail(envelope, error);
            continue;
          }
        }
        const batch = pending.get(row.id) ?? { envelopes: [], records: [] };
        for (const record of records) {
          batch.envelopes.push(envelope);
          batch.records.push(record);
        }
        pending.set(row.id, batch);
        if (batch.records.length >= (row.batchSize ?? 1000)) await flushRow(row.id);
      }
      for (const rowId of [...pending.keys()]) await flushRow(rowId);
      for (const sink of sinks.values()) await sink.flush?.();
      if (refailed > 0) {
        const handle = await open(failedPath, 'r+');
        await handle.sync();
        await handle.close();
      }
      const archived = archivePath(file.path);
      await rename(file.path, archived);
      results.push({
        file: file.path,
        replayed,
        failed: refailed,
        archived_to: archived,
        ...(refailed > 0 ? { failed_to: failedPath } : {}),
      });
      if (refailed > 0) failedOverall = true;
    }
  } finally {
    for (const sink of sinks.values()) {
      try {
        await sink.close?.();
      } catch (error) {
        logger.warn('failed to close a sink', { error: errorMessage(error) });
      }
    }
  }

  if (options.output === 'json')
    writeLine(io.stdout, JSON.stringify(redactor.redactValue({ files: results })));
  else {
    for (const r of results) {
      const parts = [`${r.file}: replayed ${r.replayed}`, `${r.failed} failed again`];
      if (r.failed_to) parts.push(`written to ${r.failed_to}`);
      if (r.archived_to) parts.push(`DLQ file moved to ${r.archived_to}`);
      if (r.note) parts.push(String(r.note));
      writeLine(io.stdout, redactor.redact(parts.join('; ')));
    }
  }
  return failedOverall ? ExitCode.failed : ExitCode.ok;
}
