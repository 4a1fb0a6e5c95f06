/**
 * One invocation: a row run once (or once per parent record for a DAG child). Creates the row's
 * connectors from their checked configs, runs `runPipeline`, and closes what it created.
 */
import {
  type CloseOutcome,
  ConfigError,
  type CreateEnv,
  type DlqOptions,
  ErrorCodes,
  FaucetError,
  type FaucetRecord,
  isFaucetError,
  type Logger,
  type PipelineResult,
  type ProgressEvent,
  Redactor,
  type RunPipelineOptions,
  type RunStatus,
  runPipeline,
  type Sink,
  type SinkDescriptor,
  type Source,
  type SourceDescriptor,
  safeLogger,
  silentLogger,
  type Transform,
  toFaucetError,
  validateConfig,
} from '@faucet/core';
import type { LoadedConnector, LoadedPipeline, LoadedRow } from '../config/load.js';
import { mapTemplates } from '../config/template.js';
import { capturingSink, discardingSink, handOffSink, jsonLinesSink } from './sinks.js';
import { createStateStores, readOnlyStateStore, type StateStores } from './state-stores.js';

export type InvocationMode = 'run' | 'dry-run' | 'preview';

export interface InvocationTarget {
  pipeline: LoadedPipeline;
  row: LoadedRow;
  stateKey: string;
  /** The captured parent record (only the fields children reference), for a DAG child. */
  parent?: FaucetRecord;
  /** The parent's key value in this invocation's state key. */
  parentKey?: string;
}

export interface InvocationOptions {
  /** Cancels the invocation: the current page finishes and is checkpointed. */
  signal?: AbortSignal;
  /** Default `run`. */
  mode?: InvocationMode;
  /** Stop after this many records reach the sink (state is then read-only). */
  limit?: number;
  /** Open state stores to share between invocations; by default one is opened and closed for this one. */
  stateStores?: StateStores;
  /** Default: silent. */
  logger?: Logger;
  /** Where to put what this invocation's sink writes (a DAG parent's capture). */
  capture?: FaucetRecord[];
  /**
   * Called on every sink flush with what the sink wrote since the previous one (projected onto the
   * fields this row's children read), before the checkpoint that passes those records is stored. A
   * queue worker enqueues a DAG parent's child invocations here; a rejection fails the run before
   * that checkpoint, so no record passed by a stored bookmark misses its hand-off.
   */
  beforeCheckpoint?: (written: FaucetRecord[]) => Promise<void>;
  /** `preview` writes JSON lines here. */
  output?: NodeJS.WritableStream;
  onProgress?: (event: ProgressEvent) => void;
  /** Warnings already given in this `faucet run` (each is given once, not per invocation). */
  warned?: Set<string>;
}

export interface InvocationOutcome {
  row: string;
  stateKey: string;
  parentKey?: string;
  status: RunStatus;
  /** True when `--limit` ended the run (reported as ok). */
  limitReached: boolean;
  result?: PipelineResult;
  error?: FaucetError;
  durationMs: number;
}

/** A transform that lets `limit` records through, then drops the rest and calls `onReached` once. */
export function limitTransform(limit: number, onReached: () => void): Transform {
  let passed = 0;
  return (record) => {
    if (passed >= limit) return null;
    passed++;
    if (passed === limit) onReached();
    return record;
  };
}

/** A connector's config for this invocation: checked once at load, or rendered from the parent record. */
async function configFor(connector: LoadedConnector, parent: FaucetRecord | undefined, redactor: Redactor) {
  if (!connector.templated) return connector.config;
  const rendered = mapTemplates(connector.spec.config, (template) => {
    const out = template.render(parent ?? {});
    if ('missing' in out) {
      throw new ConfigError(`the parent record has no "${out.missing}" for \${parent.${out.missing}}`, {
        context: `invalid config at ${connector.spec.at}.config`,
      });
    }
    return out.value;
  });
  redactor.merge(Redactor.forConfig(rendered, connector.schema));
  return validateConfig(connector.descriptor, rendered, { at: `${connector.spec.at}.config` });
}

function asFaucetError(error: unknown, what: string): FaucetError {
  return toFaucetError(
    error,
    (message, cause) => new FaucetError(`${what}: ${message}`, { cause, code: ErrorCodes.INTERNAL }),
  );
}

async function closeQuietly(what: string, close: (() => Promise<void>) | undefined, logger: Logger) {
  if (!close) return;
  try {
    await close();
  } catch (error) {
    logger.warn(`failed to close the ${what}`, { error: (error as Error).message });
  }
}

/**
 * FullTable reads everything on every run; an appending sink then adds every row again, run after
 * run, although a state store is configured (which users take to mean "only new rows"). Said once.
 */
function warnFullRefreshAppend(
  target: InvocationTarget,
  options: InvocationOptions & { logger: Logger },
): void {
  const { row } = target;
  // Once per run and kind of pairing, not per matrix row (a matrix of 200 rows would say it 200 times).
  const key = `full-refresh-append\u0000${row.source.type}\u0000${row.sink.type}`;
  if (options.warned?.has(key)) return;
  options.warned?.add(key);
  options.logger.warn(
    `${row.source.at}: replication_method FullTable reads every record again on every run, and the ` +
      `"${row.sink.type}" sink appends, so each run writes every record again (the state store only resumes an ` +
      'interrupted run). Use replication_method: { type: Incremental, cursor_field: … } for new records only, ' +
      'or a sink that replaces rows (an upsert by key, or overwrite)',
    { row: row.id },
  );
}

/**
 * Run one invocation to its end: create the row's connectors (a child's from its parent record),
 * run the engine with the row's state store, close what was created. Never throws: failures come
 * back in the outcome, secrets scrubbed.
 */
export async function runInvocation(
  target: InvocationTarget,
  options: InvocationOptions,
): Promise<InvocationOutcome> {
  if (options.stateStores) return runWith(target, options as WithStores);
  const stateStores = createStateStores();
  try {
    return await runWith(target, { ...options, stateStores });
  } finally {
    await stateStores.closeAll();
  }
}

type WithStores = InvocationOptions & { stateStores: StateStores };

async function runWith(target: InvocationTarget, given: WithStores): Promise<InvocationOutcome> {
  const options = {
    ...given,
    signal: given.signal ?? new AbortController().signal,
    mode: given.mode ?? 'run',
    logger: given.logger ?? silentLogger,
  } satisfies InvocationOptions;
  const { pipeline, row, stateKey } = target;
  const started = performance.now();
  const redactor = new Redactor().merge(pipeline.redactor);
  const logger = safeLogger(options.logger, redactor);
  const env: CreateEnv = { logger, redactor, pipeline: pipeline.name, row: row.id };
  const outcome = (fields: Partial<InvocationOutcome> & { status: RunStatus }): InvocationOutcome => ({
    row: row.id,
    stateKey,
    ...(target.parentKey === undefined ? {} : { parentKey: target.parentKey }),
    limitReached: false,
    durationMs: performance.now() - started,
    ...fields,
  });

  const limitController = new AbortController();
  let limitReached = false;
  const signal = AbortSignal.any([options.signal, limitController.signal]);
  const { connectors } = row;
  let source: Source | undefined;
  let sink: Sink | undefined;
  let dlqSink: Sink | undefined;
  let closeStatus: CloseOutcome['status'] = 'failed';
  try {
    let step = `source "${connectors.source.spec.type}"`;
    try {
      const sourceConfig = await configFor(connectors.source, target.parent, redactor);
      const created = await (connectors.source.descriptor as SourceDescriptor<unknown>).create(
        sourceConfig,
        env,
      );
      source = created;
      if (created.stateKey !== undefined && created.stateKey !== stateKey) {
        logger.info(`the source keeps its position under its own state key "${created.stateKey}"`, {
          pipeline_state_key: stateKey,
        });
      }

      if (options.mode === 'preview') {
        sink = jsonLinesSink(options.output ?? process.stdout);
      } else if (options.mode === 'dry-run') {
        sink = discardingSink();
      } else {
        step = `sink "${connectors.sink.spec.type}"`;
        const sinkConfig = await configFor(connectors.sink, target.parent, redactor);
        sink = await (connectors.sink.descriptor as SinkDescriptor<unknown>).create(sinkConfig, env);
      }
      if (options.capture) sink = capturingSink(sink, row.capturedFields, options.capture);
      if (options.beforeCheckpoint && options.mode === 'run') {
        sink = handOffSink(sink, row.capturedFields, options.beforeCheckpoint);
      }

      const runOptions: RunPipelineOptions = {
        source: created,
        sink,
        transforms: row.transformFns,
        stateKey,
        signal,
        pipeline: pipeline.name,
        row: row.id,
        connectors: {
          source: connectors.source.descriptor.id,
          sink: connectors.sink.descriptor.id,
          ...(connectors.state ? { state: connectors.state.descriptor.id } : {}),
        },
        sourceVersion: connectors.source.resolved.version,
        logger,
        redactor,
      };
      if (options.onProgress) runOptions.onProgress = options.onProgress;
      if (target.parent) runOptions.parent = target.parent;
      if (row.batchSize !== undefined) runOptions.batchSize = row.batchSize;
      if (row.checkpointEveryMs !== undefined && options.mode === 'run') {
        runOptions.checkpointEveryMs = row.checkpointEveryMs;
      }
      if (row.delivery !== undefined && options.mode === 'run') runOptions.delivery = row.delivery;
      if (options.mode === 'run' && connectors.state && created.rereadsAll && sink.appends) {
        warnFullRefreshAppend(target, options);
      }
      if (options.limit !== undefined) {
        runOptions.transforms = [
          ...row.transformFns,
          limitTransform(options.limit, () => {
            limitReached = true;
            limitController.abort();
          }),
        ];
      }
      if (connectors.state && options.mode !== 'preview') {
        step = `state "${connectors.state.spec.type}"`;
        const store = await options.stateStores.open(connectors.state, env);
        const readOnly = options.mode === 'dry-run' || options.limit !== undefined;
        runOptions.state = readOnly ? readOnlyStateStore(store) : store;
      }
      if (connectors.dlq && row.dlq && options.mode === 'run') {
        step = `dlq sink "${connectors.dlq.spec.type}"`;
        const dlqConfig = await configFor(connectors.dlq, target.parent, redactor);
        const createdDlq = await (connectors.dlq.descriptor as SinkDescriptor<unknown>).create(
          dlqConfig,
          env,
        );
        dlqSink = createdDlq;
        const dlq: DlqOptions = { sink: createdDlq, connector: connectors.dlq.descriptor.id };
        if (row.dlq.onBatchError) dlq.onBatchError = row.dlq.onBatchError;
        if (row.dlq.maxFailuresPerPage !== undefined) dlq.maxFailuresPerPage = row.dlq.maxFailuresPerPage;
        if (row.dlq.maxFailuresTotal !== undefined) dlq.maxFailuresTotal = row.dlq.maxFailuresTotal;
        runOptions.dlq = dlq;
      }
      if (row.onRecordError === 'dlq') {
        runOptions.onRecordError = 'dlq';
        // dry-run and preview write no dead letters, but must not fail where a run would go on.
        runOptions.dlq ??= { sink: discardingSink(), connector: 'dlq' };
      }
      step = 'run';
      const result = await runPipeline(runOptions);
      let status = result.status;
      if (status === 'cancelled' && limitReached && !options.signal.aborted) status = 'ok';
      closeStatus = status;
      const out = outcome({ status, limitReached, result });
      if (result.error) out.error = result.error;
      return out;
    } catch (error) {
      const failure = redactor.redactError(
        isFaucetError(error) ? error : asFaucetError(error, step === 'run' ? 'run' : `cannot create ${step}`),
      );
      return outcome({ status: 'failed', error: failure });
    }
  } finally {
    await closeQuietly('source', source?.close?.bind(source), logger);
    // Sinks learn how the run ended: staged output (overwrite mode) is committed only after `ok`.
    const closeOutcome: CloseOutcome = { status: closeStatus };
    const closeWith = (target: Sink | undefined) =>
      target?.close
        ? () => (target.close as NonNullable<Sink['close']>).call(target, closeOutcome)
        : undefined;
    await closeQuietly('sink', closeWith(sink), logger);
    await closeQuietly('dlq sink', closeWith(dlqSink), logger);
  }
}
