/**
 * Dead letters from the source (input it cannot decode, e.g. a Kafka message that is not JSON),
 * written to the row's DLQ sink beside the engine's own (rows the sink refused). Both share one sink
 * instance, so calls to it are serialised here; the source's entries are flushed before its
 * `deadLetter` call resolves, which the source awaits before it yields the page that passes them.
 *
 * Envelope: the engine's keys, with `reason: "source"`, `source` (the source's connector id) and the
 * raw input as `payload`; `record_index` is the entry's position in the source's call.
 */
import {
  type CreateEnv,
  errorKind,
  errorMessage,
  type FaucetRecord,
  type JsonObject,
  type Redactor,
  type Sink,
  silentLogger,
  type WriteResult,
} from '@faucet/core';

export interface SourceDlqContext {
  pipeline: string;
  row: string;
  source: string;
  /** The main sink's connector id (the envelope's `sink`, as in the engine's). */
  sink: string;
  /** The DLQ sink's connector id, for messages. */
  dlq: string;
  redactor: Redactor;
}

/** Calls to `sink` one at a time, in call order. */
export function serialisedSink(sink: Sink): Sink {
  let tail: Promise<unknown> = Promise.resolve();
  const queue = <T>(run: () => Promise<T>): Promise<T> => {
    const next = tail.then(run, run);
    tail = next.catch(() => {});
    return next;
  };
  const wrapped: Sink = {
    write: (records, ctx) => queue(() => Promise.resolve(sink.write(records, ctx))),
  };
  if (sink.flush) wrapped.flush = () => queue(() => (sink.flush as () => Promise<void>).call(sink));
  if (sink.close) wrapped.close = (outcome) => queue(() => (sink.close as NonNullable<Sink['close']>).call(sink, outcome));
  if (sink.batchSize !== undefined) Object.assign(wrapped, { batchSize: sink.batchSize });
  return wrapped;
}

/** The `deadLetter` a source gets: envelopes written and flushed through the (serialised) DLQ sink. */
export function sourceDeadLetter(dlq: Sink, ctx: SourceDlqContext): NonNullable<CreateEnv['deadLetter']> {
  return async (entries) => {
    if (entries.length === 0) return;
    const now = Date.now();
    const envelopes: FaucetRecord[] = entries.map((entry, i) => ({
      error: { kind: errorKind(entry.error), message: ctx.redactor.redact(errorMessage(entry.error)) },
      reason: 'source',
      payload: ctx.redactor.size > 0 ? (ctx.redactor.redactValue(entry.payload) as JsonObject) : entry.payload,
      ts_ms: now,
      source: ctx.source,
      sink: ctx.sink,
      pipeline: ctx.pipeline,
      row: ctx.row,
      record_index: i,
    }));
    const signal = new AbortController().signal;
    const result: WriteResult | undefined | void = await dlq.write(envelopes, { signal, logger: silentLogger });
    if (result?.failed && result.failed.length > 0) {
      throw new Error(
        `dlq sink "${ctx.dlq}" refused ${result.failed.length} of ${envelopes.length} dead letters of the source: ` +
          errorMessage(result.failed[0]?.error),
      );
    }
    await dlq.flush?.();
  };
}
