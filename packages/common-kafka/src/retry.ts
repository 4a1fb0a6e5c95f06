/**
 * Retrying what kafkajs reports as retriable (a coordinator still loading after a broker restart or a
 * failover, a leader moving) where kafkajs itself does not: its admin client gives up on some of these
 * at once. Waits 250 ms, doubling up to 4 s, at most `attempts` times; stops waiting when `signal`
 * aborts.
 */
import { rootKafkaError } from './errors.js';

export interface KafkaRetryOptions {
  attempts?: number;
  signal?: AbortSignal;
}

/** A broker's answer that says "not now" (not a connection failure: kafkajs has retried those already). */
export function isRetriableKafkaError(error: unknown): boolean {
  const root = rootKafkaError(error);
  return root.name === 'KafkaJSProtocolError' && root.retriable === true;
}

/**
 * The coordinator of a consumer group is loading or moving (a broker just started, restarted or
 * failed over). kafkajs 2.2 lets GROUP_LOAD_IN_PROGRESS from JoinGroup crash the consumer instead
 * of joining again (tulios/kafkajs#1779); a consumer restarted a moment later joins normally.
 */
const COORDINATOR_MOVING = new Set([
  'GROUP_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
]);

export function isCoordinatorMoving(error: unknown): boolean {
  const type = rootKafkaError(error).type;
  return typeof type === 'string' && COORDINATOR_MOVING.has(type);
}

export async function retryKafka<T>(run: () => Promise<T>, options: KafkaRetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 8;
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= attempts || !isRetriableKafkaError(error) || options.signal?.aborted) throw error;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', done);
          resolve();
        }
        options.signal?.addEventListener('abort', done, { once: true });
      });
      delay = Math.min(delay * 2, 4000);
    }
  }
}
