/** The errors of queued runs: FaucetError subclasses with stable codes. */
import { FaucetError } from '@faucet/core';

/** Redis did not answer: names the host and port tried, never the password. */
export class QueueUnreachableError extends FaucetError {
  readonly endpoint: string;

  constructor(endpoint: string, reason: string, options: { cause?: unknown } = {}) {
    super(`cannot reach the queue's Redis at ${endpoint}: ${reason}`, {
      code: 'QUEUE_UNREACHABLE',
      retryable: true,
      ...options,
    });
    this.endpoint = endpoint;
  }
}

/** A job no worker can run as submitted (its file changed or lost the row): it ends failed at once. */
export class JobRefusedError extends FaucetError {
  constructor(message: string) {
    super(message, { code: 'JOB_REFUSED' });
  }
}

/** A submission that would wait on a job of another run still live (the rows ordered by depends_on). */
export class QueueRunConflictError extends FaucetError {
  constructor(message: string) {
    super(message, { code: 'QUEUE_RUN_CONFLICT' });
  }
}
