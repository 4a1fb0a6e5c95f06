/** The BullMQ queue of invocation jobs, opened from a QueueTarget. */
import { Queue } from 'bullmq';
import { connectionOptions } from './connection.js';
import type { InvocationJobData, InvocationJobResult, QueueTarget } from './types.js';

export const DEFAULT_QUEUE_NAME = 'faucet';

export type InvocationQueue = Queue<InvocationJobData, InvocationJobResult, string>;

export function queueName(target: QueueTarget): string {
  return target.queueName ?? DEFAULT_QUEUE_NAME;
}

/** Open the queue (call `close()` when done). Probe the server first (`probeRedis`) for a clear error. */
export function openQueue(target: QueueTarget): InvocationQueue {
  return new Queue<InvocationJobData, InvocationJobResult, string>(queueName(target), {
    connection: connectionOptions(target.url),
  });
}
