/**
 * `faucet check [config]`: a doctor for a pipeline file. For every row that does not depend on a
 * parent record: create its source and run `check()` (can it reach and read what it is configured
 * for?), show what the state store holds under the row's state key, and print `status(bookmark)`
 * facts when the source has them (e.g. a CDC slot's lag in bytes, the objects an S3 source has not
 * read since the stored bookmark). Nothing is read through or written.
 * Exit 0 when every check passed, 1 otherwise.
 */
import {
  errorMessage,
  isFaucetError,
  isStateEnvelope,
  type JsonObject,
  type JsonValue,
  type Source,
  type SourceDescriptor,
  silentLogger,
  unwrapState,
} from '@faucet/core';
import { createStateStores, type LoadedPipeline, type LoadedRow, loadPipeline } from '@faucet/pipeline';
import { cliHost } from '../cli-package.js';
import { type CliIo, ExitCode, writeLine } from '../io.js';
import { enterConfigDir, loadOrReport } from './common.js';

interface RowReport extends JsonObject {
  row: string;
  source: string;
  status: 'ok' | 'failed' | 'skipped';
  state_key: string;
}

function problem(error: unknown, pipeline: LoadedPipeline): JsonObject {
  const message = pipeline.redactor.redact(errorMessage(error));
  return isFaucetError(error) ? { code: error.code, message } : { message };
}

type Env = { logger: typeof silentLogger; redactor: LoadedPipeline['redactor'] };

/** What the state store holds under the row's state key, into `report`; returns the bookmark. */
async function readStoredState(
  row: LoadedRow,
  report: RowReport,
  pipeline: LoadedPipeline,
  stores: ReturnType<typeof createStateStores>,
  env: Env,
): Promise<JsonValue | undefined> {
  const connector = row.connectors.state;
  if (!connector) {
    report.state = 'none configured (runs are not resumable)';
    return undefined;
  }
  try {
    const store = await stores.open(connector, env);
    const value = (await store.get(report.state_key)) as JsonValue | undefined;
    if (value === undefined) report.state = 'no checkpoint yet';
    else if (isStateEnvelope(value)) {
      report.state = { bookmark: value.bookmark, updated_at: value.updated_at };
    } else report.state = { value };
    return unwrapState(value).bookmark;
  } catch (error) {
    report.status = 'failed';
    report.state_error = problem(error, pipeline);
    return undefined;
  }
}

async function checkRow(
  row: LoadedRow,
  pipeline: LoadedPipeline,
  stores: ReturnType<typeof createStateStores>,
) {
  const report: RowReport = {
    row: row.id,
    source: row.connectors.source.spec.type,
    status: 'ok',
    state_key: row.stateKey,
  };
  if (row.parent !== undefined || row.connectors.source.templated) {
    report.status = 'skipped';
    report.reason = `its config depends on each "${row.parent ?? 'parent'}" record; checked when its parent runs`;
    return report;
  }
  const env: Env = { logger: silentLogger, redactor: pipeline.redactor };
  let source: Source | undefined;
  try {
    source = await (row.connectors.source.descriptor as SourceDescriptor<unknown>).create(
      row.connectors.source.config,
      env,
    );
    // A source's own state key (a CDC slot) decides where the stored bookmark is.
    if (source.stateKey !== undefined) report.state_key = source.stateKey;
  } catch (error) {
    report.status = 'failed';
    report.error = problem(error, pipeline);
  }
  const bookmark = await readStoredState(row, report, pipeline, stores, env);
  if (!source) return report;
  try {
    if (source.check) {
      await source.check();
      report.check = 'passed';
    } else {
      report.check = 'not available';
    }
    if (source.status) {
      report.facts = pipeline.redactor.redactValue(await source.status(bookmark)) as JsonObject;
    }
  } catch (error) {
    report.status = 'failed';
    report.error = problem(error, pipeline);
  } finally {
    await source.close?.().catch(() => {});
  }
  return report;
}

function text(value: JsonValue | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return Object.entries(value)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(', ');
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export async function checkCommand(
  config: string | undefined,
  options: { output?: 'text' | 'json' },
  io: CliIo,
): Promise<number> {
  const pipeline = await loadOrReport(
    () => loadPipeline(config, { env: io.env, cwd: io.cwd, host: cliHost() }),
    options.output,
    io,
  );
  enterConfigDir(pipeline);
  const stores = createStateStores();
  const reports: RowReport[] = [];
  try {
    for (const id of pipeline.order) {
      reports.push(await checkRow(pipeline.rowsById.get(id) as LoadedRow, pipeline, stores));
    }
  } finally {
    await stores.closeAll();
  }
  const failed = reports.filter((r) => r.status === 'failed').length;
  if (options.output === 'json') {
    writeLine(
      io.stdout,
      JSON.stringify(
        pipeline.redactor.redactValue({
          pipeline: pipeline.name,
          file: pipeline.displayFile,
          status: failed > 0 ? 'failed' : 'ok',
          rows: reports,
        }),
      ),
    );
    return failed > 0 ? ExitCode.failed : ExitCode.ok;
  }
  writeLine(io.stdout, `${pipeline.displayFile}: pipeline "${pipeline.name}"`);
  for (const r of reports) {
    const lines = [`  ${r.row}: source ${r.source} — ${r.status}${r.reason ? ` (${r.reason})` : ''}`];
    if (r.check !== undefined) lines.push(`    check: ${r.check}`);
    if (r.error !== undefined) lines.push(`    error: ${text((r.error as JsonObject).message)}`);
    if (r.facts !== undefined) lines.push(`    status: ${text(r.facts)}`);
    if (r.state !== undefined) lines.push(`    state ${r.state_key}: ${text(r.state)}`);
    if (r.state_error !== undefined)
      lines.push(`    state error: ${text((r.state_error as JsonObject).message)}`);
    for (const line of lines) writeLine(io.stdout, pipeline.redactor.redact(line));
  }
  writeLine(
    io.stdout,
    failed > 0 ? `${failed} of ${reports.length} rows failed their checks` : 'all checks passed',
  );
  return failed > 0 ? ExitCode.failed : ExitCode.ok;
}
