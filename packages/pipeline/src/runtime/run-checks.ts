/**
 * What `faucet run` would refuse before reading a record, checked without reading or writing
 * anything: the engine's own option checks (effectively_once needs an idempotent sink, a durable state
 * store and no dlq; checkpoint_every; on_record_error needs a dlq; batch sizes), against the row's
 * real sink (created, never written to, closed) and its state store's declared durability. `faucet
 * validate` and `faucet run` both call it, so both refuse the same files with exit code 2.
 */
import {
  type CreateEnv,
  type DlqOptions,
  type Logger,
  Redactor,
  type RunPipelineOptions,
  type Sink,
  type SinkDescriptor,
  type StateStore,
  type StateStoreDescriptor,
  safeLogger,
  validateOptions,
} from '@faucet/core';
import type { LoadedPipeline, LoadedRow } from '../config/load.js';
import { type LocatedIssue, PipelineFileError } from '../errors.js';

/** Engine option paths → where a user writes them in the row. */
function rowPath(row: LoadedRow, path: string): string {
  if (path === 'sink.batch_size') return `${row.sink.at}.config.batch_size`;
  if (path.startsWith('dlq.')) return `${row.at}.${path}`;
  return `${row.at}.${path}`;
}

/** A stand-in with the only property the checks read of a state store: whether it is durable. */
function declaredState(row: LoadedRow): StateStore | undefined {
  const state = row.connectors.state;
  if (!state) return undefined;
  const durable = (state.descriptor as StateStoreDescriptor<unknown>).durable !== false;
  return { durable } as StateStore;
}

async function createSink(row: LoadedRow, which: 'sink' | 'dlq', env: CreateEnv): Promise<Sink | undefined> {
  const connector = which === 'sink' ? row.connectors.sink : row.connectors.dlq;
  // A config with ${parent.…} is only complete per parent record; its sink is checked when it runs.
  if (!connector || connector.templated || connector.config === undefined) return undefined;
  return (connector.descriptor as SinkDescriptor<unknown>).create(connector.config, env);
}

async function rowIssues(row: LoadedRow, env: CreateEnv): Promise<LocatedIssue[]> {
  const sink = await createSink(row, 'sink', env);
  const dlqSink = await createSink(row, 'dlq', env);
  try {
    if (!sink) return [];
    const options: RunPipelineOptions = {
      source: { read: async function* () {} },
      sink,
    };
    const state = declaredState(row);
    if (state) options.state = state;
    if (row.dlq) {
      const dlq: DlqOptions = { sink: dlqSink ?? { write: async () => {} } };
      if (row.dlq.maxFailuresPerPage !== undefined) dlq.maxFailuresPerPage = row.dlq.maxFailuresPerPage;
      if (row.dlq.maxFailuresTotal !== undefined) dlq.maxFailuresTotal = row.dlq.maxFailuresTotal;
      options.dlq = dlq;
    }
    if (row.batchSize !== undefined) options.batchSize = row.batchSize;
    if (row.delivery !== undefined) options.delivery = row.delivery;
    if (row.checkpointEveryMs !== undefined) options.checkpointEveryMs = row.checkpointEveryMs;
    if (row.onRecordError !== undefined) options.onRecordError = row.onRecordError;
    return validateOptions(options).map((issue) => ({
      path: rowPath(row, issue.path),
      message: issue.message,
    }));
  } finally {
    // Nothing was written: a sink that stages output discards it.
    await sink?.close?.({ status: 'failed' }).catch(() => {});
    await dlqSink?.close?.({ status: 'failed' }).catch(() => {});
  }
}

/** Every problem `run` would refuse the file for, placed in the file; throws PipelineFileError (exit 2). */
export async function assertRunnable(pipeline: LoadedPipeline, logger: Logger): Promise<void> {
  const redactor = new Redactor().merge(pipeline.redactor);
  const env: CreateEnv = { logger: safeLogger(logger, redactor), redactor };
  const issues: LocatedIssue[] = [];
  for (const row of pipeline.rows) issues.push(...(await rowIssues(row, env)));
  if (issues.length > 0) throw new PipelineFileError(pipeline.displayFile, pipeline.placeIssues(issues));
}
