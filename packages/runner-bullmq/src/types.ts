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
  /** A DAG child: the parent record as its parent's sink wrote it (only the fields children read). */
  parent?: JsonObject;
  /** A DAG child: the parent's key value in its state key. */
  parentKey?: string;
  /** A DAG child: the job of the parent invocation that enqueued it. */
  parentJob?: string;
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
  /** The run whose job was followed (when `added` is false): its DAG children are listed under it. */
  ownerRun?: string;
  /** A row with `depends_on`: its job is added by the worker that ends its last dependency. */
  deferred?: boolean;
  /** A row with `depends_on`: the rows it waits for. */
  waitsFor?: string[];
  /** A DAG child: the parent's key value in its state key. */
  parentKey?: string;
}

export interface SubmittedRun {
  runId: string;
  /** ISO time of the submission. */
  submittedAt: string;
  pipeline: string;
  file: string;
  queueName: string;
  /** One per row without a parent; DAG children are added by the workers as parents write records. */
  jobs: SubmittedJob[];
  /** The DAG child rows and their parent rows (their jobs are listed beside the run, see runJobs). */
  childRows?: Array<{ id: string; parent: string }>;
}

/** How a job ended, as the submitter sees it. */
export interface FollowedJob {
  job: SubmittedJob;
  /** The worker's report; absent when the job disappeared or failed before running (`reason`). */
  outcome?: InvocationJobResult;
  /** `skipped`: a row whose dependency did not succeed (its job was never added). */
  status: 'ok' | 'failed' | 'cancelled' | 'skipped';
  reason?: string;
  attempts: number;
}
