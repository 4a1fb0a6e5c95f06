/** The public shapes of @faucet/runner-bullmq: what a job carries, what it returns, where the queue is. */
import type { JsonObject } from '@faucet/core';

/** Where the queue lives. */
export interface QueueTarget {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). */
  url: string;
  /** The BullMQ queue name (default `faucet`). Workers and submitters must agree on it. */
  queueName?: string;
}

/** One invocation as a job: enough for any worker to load the same file and run the same row. */
export interface InvocationJobData {
  runId: string;
  /** Absolute path of the pipeline file; every worker host must have the same file at this path. */
  file: string;
  /** sha256 of the file's text when submitted; a worker with a different file refuses the job. */
  fileHash: string;
  pipeline: string;
  row: string;
  stateKey: string;
}

/**
 * What a finished invocation reports back (the engine's result, JSON only): the job's return value,
 * and for a failed job its progress. Reports of workers before `kind` existed lack it.
 */
export interface InvocationJobResult {
  kind?: 'result';
  row: string;
  stateKey: string;
  status: 'ok' | 'failed' | 'cancelled';
  limitReached: boolean;
  durationMs: number;
  /** The engine's PipelineResult as JSON (records read and written, pages, last bookmark…). */
  result?: JsonObject;
  error?: { code: string; message: string; retryable: boolean };
  /** The worker that ran it (`host:pid`). */
  worker: string;
}

/**
 * Where a running invocation stands, put in its job's progress by the worker at most about once a
 * second, and replaced by the final report (`InvocationJobResult`) if the job fails.
 */
export interface InvocationJobProgress {
  kind: 'progress';
  /** The engine's event it comes from: the invocation started, read a page, or stored a checkpoint. */
  type: 'start' | 'page' | 'checkpoint';
  row: string;
  stateKey: string;
  /** The worker running it (`host:pid`). */
  worker: string;
  pages: number;
  recordsRead: number;
  recordsWritten: number;
  recordsDeadLettered: number;
  checkpoints: number;
  /** Records written per second since the invocation started. */
  ratePerSec: number;
  elapsedMs: number;
  /** ISO time of the last stored checkpoint. */
  lastCheckpointAt?: string;
}

/** One job of a submitted run. */
export interface SubmittedJob {
  row: string;
  stateKey: string;
  jobId: string;
  /** false when a job for this state key was already waiting or running and was followed instead. */
  added: boolean;
}

export interface SubmittedRun {
  runId: string;
  /** ISO time of the submission. */
  submittedAt: string;
  pipeline: string;
  file: string;
  queueName: string;
  jobs: SubmittedJob[];
}

/** How a job ended, as the submitter sees it. */
export interface FollowedJob {
  job: SubmittedJob;
  /** The worker's report; absent when the job disappeared or failed before running (`reason`). */
  outcome?: InvocationJobResult;
  status: 'ok' | 'failed' | 'cancelled';
  reason?: string;
  attempts: number;
}
