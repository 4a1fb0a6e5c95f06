/**
 * Partitions: one request chain per configured value, read concurrently. Each value gets an id that
 * is safe inside a state key (the engine stores a partition's bookmark under `{stateKey}::{id}`),
 * and the chains' pages are merged through a small bounded queue, so a partition that runs ahead
 * waits for the consumer instead of piling pages up in memory.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '@faucet/core';

/** Characters an id keeps as they are; everything else (and `_` itself) is escaped. */
const KEPT = /[A-Za-z0-9.-]/;
/** Ids longer than this are shortened (state keys are limited to 256 characters). */
export const MAX_PARTITION_ID_LENGTH = 100;
const SHORTENED_PREFIX = 80;

/**
 * The state-key-safe id of a partition value. Letters, digits, `.` and `-` stay; every other
 * character becomes `_` + the two lowercase hex digits of each of its UTF-8 bytes (`_` → `_5f`,
 * ` ` → `_20`, `:` → `_3a`, `é` → `_c3_a9`), so the mapping is reversible and two different strings
 * never share an id. The empty string is `_`. An id longer than 100 characters is cut to its first
 * 80 and suffixed with `:` and 16 hex digits of the value's SHA-256 (`:` never occurs in an
 * unshortened id). Numbers are taken as their decimal text, so `1` and `"1"` share an id.
 */
export function partitionId(value: string | number): string {
  const text = String(value);
  if (text === '') return '_';
  let id = '';
  for (const char of text) {
    if (KEPT.test(char)) id += char;
    else for (const byte of Buffer.from(char, 'utf8')) id += `_${byte.toString(16).padStart(2, '0')}`;
  }
  if (id.length <= MAX_PARTITION_ID_LENGTH) return id;
  let cut = id.slice(0, SHORTENED_PREFIX);
  // Never cut an escape in half.
  const lastEscape = cut.lastIndexOf('_');
  if (lastEscape > cut.length - 3) cut = cut.slice(0, lastEscape);
  return `${cut}:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/** The ids of all values, in order; a ConfigError when two values share one. */
export function partitionIds(values: readonly (string | number)[]): string[] {
  const seen = new Map<string, string | number>();
  const problems: string[] = [];
  const ids = values.map((value) => {
    const id = partitionId(value);
    const earlier = seen.get(id);
    if (earlier === undefined) seen.set(id, value);
    else {
      problems.push(
        `${JSON.stringify(earlier)} and ${JSON.stringify(value)} both map to the partition id "${id}"; ` +
          'each value must be distinct',
      );
    }
    return id;
  });
  if (problems.length > 0) {
    throw new ConfigError(
      problems.map((message) => ({ path: 'partitions.values', message })),
      { context: 'invalid config for source "rest"' },
    );
  }
  return ids;
}

export interface MergeOptions {
  /** Items produced at once, at most. */
  concurrency: number;
  /** Produced values waiting for the consumer, at most; a producer with one more waits. */
  capacity: number;
  /** Aborting it stops every producer; the merge then throws the abort reason. */
  signal: AbortSignal;
}

/**
 * Runs `produce` for every item, at most `concurrency` at once, and yields their values as they come
 * (values of one item keep their order; items interleave). Memory is bounded: at most `capacity`
 * values wait in the queue, and a producer that has one more waits until the consumer takes one.
 *
 * The first producer failure ends the merge: every other producer's signal is aborted (in-flight
 * requests stop), the values still queued are dropped, and the merge throws that error once every
 * producer has settled. Stopping the iteration early (return / break) aborts producers the same way.
 */
export async function* mergeConcurrent<I, T>(
  items: readonly I[],
  options: MergeOptions,
  produce: (item: I, signal: AbortSignal) => AsyncIterable<T>,
): AsyncGenerator<T, void, undefined> {
  const controller = new AbortController();
  const onOuterAbort = () => fail(options.signal.reason ?? new Error('aborted'));
  const queue: T[] = [];
  let failure: { error: unknown } | undefined;
  let next = 0;
  let running = 0;
  let wakeConsumer: (() => void) | undefined;
  const wakeProducers: (() => void)[] = [];

  const notifyConsumer = () => {
    const wake = wakeConsumer;
    wakeConsumer = undefined;
    wake?.();
  };
  function fail(error: unknown): void {
    if (failure) return;
    failure = { error };
    controller.abort(error);
    for (const wake of wakeProducers.splice(0)) wake();
    notifyConsumer();
  }

  const push = async (value: T): Promise<void> => {
    while (queue.length >= options.capacity && !controller.signal.aborted) {
      await new Promise<void>((resolve) => wakeProducers.push(resolve));
    }
    if (controller.signal.aborted) throw controller.signal.reason;
    queue.push(value);
    notifyConsumer();
  };

  const worker = async (): Promise<void> => {
    while (next < items.length && !controller.signal.aborted) {
      const item = items[next++] as I;
      for await (const value of produce(item, controller.signal)) await push(value);
    }
  };

  if (options.signal.aborted) throw options.signal.reason;
  options.signal.addEventListener('abort', onOuterAbort, { once: true });
  const workers: Promise<void>[] = [];
  const width = Math.max(1, Math.min(options.concurrency, items.length));
  for (let i = 0; i < width; i++) {
    running++;
    workers.push(
      worker().then(
        () => {
          running--;
          notifyConsumer();
        },
        (error: unknown) => {
          running--;
          // A producer stopped by the abort of another's failure is not a failure of its own.
          if (!controller.signal.aborted) fail(error);
          notifyConsumer();
        },
      ),
    );
  }
  try {
    for (;;) {
      if (failure) break;
      if (queue.length > 0) {
        const value = queue.shift() as T;
        wakeProducers.shift()?.();
        yield value;
        continue;
      }
      if (running === 0) break;
      await new Promise<void>((resolve) => {
        wakeConsumer = resolve;
      });
    }
  } finally {
    options.signal.removeEventListener('abort', onOuterAbort);
    if (!controller.signal.aborted) controller.abort(new Error('the partition merge was stopped'));
    for (const wake of wakeProducers.splice(0)) wake();
    queue.length = 0;
    await Promise.all(workers);
  }
  if (failure) throw failure.error;
}
