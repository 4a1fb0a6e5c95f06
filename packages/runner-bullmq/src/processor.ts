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
import { type InvocationOutcome, rootInvocations, runInvocation, type StateStores } from '@faucet/pipeline';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { JobRefusedError } from './errors.js';
import { createLiveProgress, type LiveProgress, progressOf } from './live-progress.js';
import { createPipelineCache, type PipelineCacheOptions } from './load-cached.js';
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

export function createInvocationProcessor(options: ProcessorOptions) {
  const cache = createPipelineCache(options);

  async function outcomeFor(
    data: InvocationJobData,
    signal: AbortSignal,
    onProgress: (event: ProgressEvent) => void,
  ): Promise<InvocationOutcome> {
    const pipeline = await cache.pipelineFor(data);
    const target = rootInvocations(pipeline).find((t) => t.stateKey === data.stateKey);
    if (!target)
      throw new JobRefusedError(`the pipeline file ${data.file} has no row for state key ${data.stateKey}`);
    // Connectors resolve relative paths from the working directory, as under `faucet run`.
    process.chdir(pipeline.dir);
    return runInvocation(target, {
      stateStores: options.stateStores,
      logger: options.logger,
      signal,
      onProgress,
    });
  }

  return async (
    job: Job<InvocationJobData, InvocationJobResult>,
    token?: string,
  ): Promise<InvocationJobResult> => {
    options.events?.started?.(job.data, job.attemptsMade + 1);
    let outcome: InvocationOutcome;
    const watch = watchCancel(job.id ?? '', options);
    const live = liveProgressOf(job);
    try {
      outcome = await outcomeFor(job.data, watch.signal, live.report);
    } catch (error) {
      await live.stop();
      const failure = toFaucetError(error, (message, cause) => new FaucetError(message, { cause }));
      const result: InvocationJobResult = {
        kind: 'result',
        row: job.data.row,
        stateKey: job.data.stateKey,
        status: 'failed',
        limitReached: false,
        durationMs: 0,
        error: { code: failure.code, message: failure.message, retryable: false },
        worker: WORKER_LABEL,
      };
      options.events?.finished?.(job.data, result);
      await job.updateProgress(result as unknown as object);
      throw new UnrecoverableError(failure.message);
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
      throw new Error(result.error?.message ?? 'the invocation failed');
    }
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
