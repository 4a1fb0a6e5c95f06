/**
 * A worker process's queue side: a BullMQ Worker running invocation jobs with the normal engine.
 * A worker that dies mid-job stops renewing its job lock; after `lockDurationMs` another worker's
 * stalled-job check (every `stalledIntervalMs`) puts the job back and it resumes from the stored
 * bookmark. The state-key lock still keeps one runner per key if a job is ever delivered twice.
 */

import { type Logger, silentLogger } from '@faucet/core';
import { createStateStores, type PipelineHost } from '@faucet/pipeline';
import { Worker } from 'bullmq';
import { isCancelled } from './cancel.js';
import { connectionOptions, probeRedis } from './connection.js';
import { createInvocationProcessor, type WorkerEvents } from './processor.js';
import { openQueue, queueName } from './queue.js';
import type { InvocationJobData, InvocationJobResult, QueueTarget } from './types.js';

export interface WorkerOptions extends QueueTarget {
  /** Jobs run at once by this worker (default 1). */
  concurrency?: number;
  /** How long a job stays locked to a worker that stops renewing it (default 30000 ms). */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for (default 30000 ms). */
  stalledIntervalMs?: number;
  /** Stalls before a job is failed instead of re-delivered (default 1, as BullMQ). */
  maxStalledCount?: number;
  env?: NodeJS.ProcessEnv;
  /** The program running the worker: its dependencies are searched for connectors last. */
  host?: PipelineHost;
  logger?: Logger;
  events?: WorkerEvents;
}

export interface FaucetWorker {
  /** Stop taking jobs; running invocations finish their page, checkpoint and go back to the queue. */
  close(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<FaucetWorker> {
  await probeRedis(options.url);
  const controller = new AbortController();
  const stateStores = createStateStores();
  const sideQueue = openQueue(options);
  const processor = createInvocationProcessor({
    isCancelled: (jobId) => isCancelled(sideQueue, jobId),
    env: options.env ?? process.env,
    ...(options.host ? { host: options.host } : {}),
    logger: options.logger ?? silentLogger,
    stateStores,
    signal: controller.signal,
    queue: sideQueue,
    ...(options.events ? { events: options.events } : {}),
  });
  const worker = new Worker<InvocationJobData, InvocationJobResult, string>(queueName(options), processor, {
    connection: connectionOptions(options.url),
    concurrency: options.concurrency ?? 1,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: options.maxStalledCount ?? 1,
  });
  worker.on('error', (error) => (options.logger ?? silentLogger).warn(`queue: ${error.message}`));
  await worker.waitUntilReady();
  return {
    async close() {
      controller.abort();
      await worker.close();
      await stateStores.closeAll();
      await sideQueue.close();
    },
  };
}
