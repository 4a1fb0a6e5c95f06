/**
 * @faucet/runner-bullmq: faucet pipeline files on many machines. `submitRun` turns each invocation
 * of a loaded file into a BullMQ job (its id derived from the state key), `followRun` waits for the
 * jobs and `executionReport` makes the same report a local run gives; `startWorker` runs jobs with
 * the normal engine. `faucet run --queue` and `faucet worker` are built on these.
 */
export { type CancelledRun, cancelRun } from './cancel.js';
export { assertQueueable, queueIssues } from './checks.js';
export { probeRedis, redisEndpoint } from './connection.js';
export { JobRefusedError, QueueRunConflictError, QueueUnreachableError } from './errors.js';
export { type FollowOptions, followRun } from './follow.js';
export { jobIdFor, stateKeyOf } from './job-ids.js';
export type { WorkerEvents } from './processor.js';
export { DEFAULT_QUEUE_NAME, type InvocationQueue, openQueue } from './queue.js';
export { executionReport, invocationOutcome, progressEvent } from './report.js';
export { type RowEnd, runJobs } from './run-state.js';
export { listRuns, loadRun } from './runs.js';
export { countStates, type JobStatus, runStatus } from './status.js';
export { submitRun } from './submit.js';
export type {
  FollowedJob,
  InvocationJobData,
  InvocationJobProgress,
  InvocationJobResult,
  QueueTarget,
  SubmittedJob,
  SubmittedRun,
} from './types.js';
export { type FaucetWorker, startWorker, type WorkerOptions } from './worker.js';
