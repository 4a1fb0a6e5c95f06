/**
 * What a worker does with one job: load the file it names (cached), run that invocation with the
 * normal engine and the file's own state store, and report. A failed invocation throws, so BullMQ
 * tries it again (`execution.retries`) and finally marks it failed with the last report kept in the
 * job's progress. An invocation cancelled because the worker is shutting down goes back to the
 * queue without using up an attempt: it resumes from its bookmark on whichever worker takes it.
 * While it runs, its progress (records, pages, last checkpoint) is in the job's progress about once
 * a second (`kind: 'progress'`), for the submitter to show; a failed job's final report replaces it.
 */
import { hostname } from 'node:os';
import { FaucetError, type Logger, type ProgressEvent, toFaucetError } from '@faucet/core';
import {
  childInvocations,
  type InvocationOutcome,
  type InvocationTarget,
  type LoadedPipeline,
  rootInvocations,
  runInvocation,
  type StateStores,
} from '@faucet/pipeline';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { childEnqueuer } from './children.js';
import { rowEnded } from './dependents.js';
import { JobRefusedError } from './errors.js';
import { jobIdFor } from './job-ids.js';
import { createLiveProgress, type LiveProgress, progressOf } from './live-progress.js';
import { createPipelineCache, type PipelineCacheOptions } from './load-cached.js';
import { childDone } from './owed.js';
import type { InvocationQueue } from './queue.js';
import type { InvocationJobData, InvocationJobResult } from './types.js';

export interface WorkerEvents {
  started?(data: InvocationJobData, attempt: number): void;
  finished?(data: InvocationJobData, result: InvocationJobResult): void;
}

export interface ProcessorOptions extends PipelineCacheOptions {
  /** Whether the job was cancelled (`faucet runs cancel`); looked at before and about once a second during a job. */
  isCancelled?(jobId: string): Promise<boolean>;
  logger: Logger;
  stateStores: StateStores;
  /** Aborted when the worker shuts down: running invocations finish their page and checkpoint. */
  signal: AbortSignal;
  events?: WorkerEvents;
  /** The queue, for the jobs a job adds (DAG children, rows waiting in `depends_on`). */
  queue: InvocationQueue;
}

export const WORKER_LABEL = `${hostname()}:${process.pid}`;

function resultOf(outcome: InvocationOutcome): InvocationJobResult {
  return {
    kind: 'result',
    row: outcome.row,
    stateKey: outcome.stateKey,
    status: outcome.status === 'ok' ? 'ok' : outcome.status === 'cancelled' ? 'cancelled' : 'failed',
    limitReached: outcome.limitReached,
    durationMs: outcome.durationMs,
    ...(outcome.result ? { result: JSON.parse(JSON.stringify(outcome.result)) } : {}),
    ...(outcome.error
      ? {
          error: {
            code: outcome.error.code,
            message: outcome.error.message,
            retryable: outcome.error.retryable,
          },
        }
      : {}),
    worker: WORKER_LABEL,
  };
}

/** The invocation a job names: a row without a parent by its state key, or a DAG child from its parent record. */
function targetOf(pipeline: LoadedPipeline, data: InvocationJobData): InvocationTarget {
  const refuse = () =>
    new JobRefusedError(`the pipeline file ${data.file} has no row for state key ${data.stateKey}`);
  if (data.parent === undefined) {
    const target = rootInvocations(pipeline).find((t) => t.stateKey === data.stateKey);
    if (!target) throw refuse();
    return target;
  }
  const row = pipeline.rowsById.get(data.row);
  const target = row && childInvocations(pipeline, row, [data.parent]).targets[0];
  if (!target || target.stateKey !== data.stateKey) throw refuse();
  return target;
}

/** Whether this attempt is the job's last (a failure now ends it failed). */
function lastAttempt(job: Job<InvocationJobData, InvocationJobResult>): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

function refusedResult(data: InvocationJobData, error: unknown): InvocationJobResult {
  const failure = toFaucetError(error, (message, cause) => new FaucetError(message, { cause }));
  return {
    kind: 'result',
    row: data.row,
    stateKey: data.stateKey,
    status: 'failed',
    limitReached: false,
    durationMs: 0,
    error: { code: failure.code, message: failure.message, retryable: false },
    worker: WORKER_LABEL,
  };
}

export function createInvocationProcessor(options: ProcessorOptions) {
  const cache = createPipelineCache(options);
  const { queue } = options;

  async function outcomeFor(
    data: InvocationJobData,
    pipeline: LoadedPipeline,
    signal: AbortSignal,
    onProgress: (event: ProgressEvent) => void,
  ): Promise<InvocationOutcome> {
    const target = targetOf(pipeline, data);
    // Connectors resolve relative paths from the working directory, as under `faucet run`.
    process.chdir(pipeline.dir);
    return runInvocation(target, {
      stateStores: options.stateStores,
      logger: options.logger,
      signal,
      onProgress,
      ...(target.row.children.length > 0 ? { beforeCheckpoint: childEnqueuer(queue, pipeline, data) } : {}),
    });
  }

  /** Tell the run how a job ended for good: rows waiting for it, children no longer owed. */
  async function ended(
    data: InvocationJobData,
    pipeline: LoadedPipeline | undefined,
    result: InvocationJobResult,
  ) {
    if (data.parent !== undefined) {
      const row = pipeline?.rowsById.get(data.row);
      if (result.status === 'ok' && row) await childDone(queue, row.stateKey, jobIdFor(data.stateKey));
      return;
    }
    const reason = result.error?.message;
    await rowEnded(queue, pipeline, data, data.row, { status: result.status, ...(reason ? { reason } : {}) });
  }

  return async (
    job: Job<InvocationJobData, InvocationJobResult>,
    token?: string,
  ): Promise<InvocationJobResult> => {
    options.events?.started?.(job.data, job.attemptsMade + 1);
    let outcome: InvocationOutcome;
    let pipeline: LoadedPipeline | undefined;
    const watch = watchCancel(job.id ?? '', options);
    const live = liveProgressOf(job);
    try {
      pipeline = await cache.pipelineFor(job.data);
      outcome = await outcomeFor(job.data, pipeline, watch.signal, live.report);
    } catch (error) {
      await live.stop();
      const result = refusedResult(job.data, error);
      options.events?.finished?.(job.data, result);
      await job.updateProgress(result as unknown as object);
      await ended(job.data, pipeline, result);
      throw new UnrecoverableError(result.error?.message ?? 'refused');
    } finally {
      watch.stop();
    }
    await live.stop();
    const result = resultOf(outcome);
    options.events?.finished?.(job.data, result);
    if (result.status === 'cancelled' && options.signal.aborted && token !== undefined) {
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    if (result.status === 'failed') {
      await job.updateProgress(result as unknown as object);
      if (lastAttempt(job)) await ended(job.data, pipeline, result);
      throw new Error(result.error?.message ?? 'the invocation failed');
    }
    await ended(job.data, pipeline, result);
    return result;
  };
}

function liveProgressOf(job: Job<InvocationJobData, InvocationJobResult>): LiveProgress {
  return createLiveProgress({ updateProgress: (progress) => job.updateProgress(progress) }, (event) =>
    progressOf(event, job.data, WORKER_LABEL),
  );
}

/** An abort signal for one job: the worker shutting down, or the job cancelled (checked every second). */
function watchCancel(jobId: string, options: ProcessorOptions): { signal: AbortSignal; stop(): void } {
  const check = options.isCancelled;
  if (!check) return { signal: options.signal, stop() {} };
  const cancelled = new AbortController();
  const look = () => {
    check(jobId).then(
      (yes) => {
        if (yes) cancelled.abort();
      },
      () => {}, // a missed look is retried a second later
    );
  };
  look();
  const timer = setInterval(look, 1000);
  return {
    signal: AbortSignal.any([options.signal, cancelled.signal]),
    stop: () => clearInterval(timer),
  };
}
