/**
 * Sink wrappers put around a row's sink: capturing what a DAG parent actually wrote (only
 * the fields its children read), and the sinks of `--dry-run` and `preview`.
 */
import {
  cursorValue,
  type FaucetRecord,
  type JsonObject,
  type JsonValue,
  type Sink,
  type WriteResult,
} from '@faucet/core';

/** `{user: {id: 1}}` from the paths `user.id` of a record: only what children reference. */
export function projectRecord(record: FaucetRecord, paths: readonly string[]): FaucetRecord {
  const out: FaucetRecord = {};
  for (const path of paths) {
    const value = cursorValue(record, path);
    if (value === undefined) continue;
    const parts = path.split('.');
    let node: JsonObject = out;
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i] as string;
      const next = node[part];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
      node = node[part] as JsonObject;
    }
    node[parts[parts.length - 1] as string] = value as JsonValue;
  }
  return out;
}

/**
 * Wrap a sink so every row it reports written (not listed in `failed`) is projected onto `paths`
 * and pushed to `into`. Rows a write throws for, or reports failed, are not captured.
 */
export function capturingSink(inner: Sink, paths: readonly string[], into: FaucetRecord[]): Sink {
  return capturing(inner, paths, (record) => into.push(record));
}

type MutableSink = { -readonly [K in keyof Sink]: Sink[K] };

function capturing(inner: Sink, paths: readonly string[], keep: (record: FaucetRecord) => void): MutableSink {
  const capture = (records: FaucetRecord[], result: WriteResult | undefined | void): void => {
    const failed = new Set((result?.failed ?? []).map((f) => f.index));
    records.forEach((record, i) => {
      if (!failed.has(i)) keep(projectRecord(record, paths));
    });
  };
  const sink: MutableSink = {
    async write(records, ctx) {
      const result = await inner.write(records, ctx);
      capture(records, result);
      return result;
    },
  };
  if (inner.flush) sink.flush = () => (inner.flush as () => Promise<void>).call(inner);
  if (inner.close) sink.close = (outcome) => (inner.close as NonNullable<Sink['close']>).call(inner, outcome);
  if (inner.batchSize !== undefined) sink.batchSize = inner.batchSize;
  if (inner.idempotentWrites !== undefined) sink.idempotentWrites = inner.idempotentWrites;
  if (inner.appends !== undefined) sink.appends = inner.appends;
  if (inner.writeIdempotent) {
    const writeIdempotent = inner.writeIdempotent.bind(inner);
    sink.writeIdempotent = async (records, commit, ctx) => {
      const result = await writeIdempotent(records, commit, ctx);
      capture(records, result);
      return result;
    };
  }
  if (inner.lastCommittedToken) sink.lastCommittedToken = inner.lastCommittedToken.bind(inner);
  return sink;
}

/**
 * Wrap a sink so what it wrote (projected onto `paths`, as `capturingSink` keeps it) is handed to
 * `handOff` on every flush, after the inner sink's flush. The engine flushes the sink before it
 * stores any checkpoint, so the records a checkpoint passes have always been handed off first: a
 * crash in between re-reads the page and hands them off again. A rejected hand-off fails the flush
 * (no checkpoint is stored) and keeps the records for the next flush. Holds at most what was
 * written since the last flush (one checkpoint interval).
 */
export function handOffSink(
  inner: Sink,
  paths: readonly string[],
  handOff: (written: FaucetRecord[]) => Promise<void>,
): Sink {
  let held: FaucetRecord[] = [];
  const sink = capturing(inner, paths, (record) => held.push(record));
  const innerFlush = inner.flush?.bind(inner);
  sink.flush = async () => {
    if (innerFlush) await innerFlush();
    if (held.length === 0) return;
    const batch = held;
    held = [];
    try {
      await handOff(batch);
    } catch (error) {
      held = batch.concat(held);
      throw error;
    }
  };
  return sink;
}

/** `--dry-run`: accepts every record and keeps none. */
export function discardingSink(): Sink {
  return {
    async write() {},
  };
}

/** `preview`: one JSON line per record on a stream. */
export function jsonLinesSink(stream: NodeJS.WritableStream): Sink {
  return {
    async write(records) {
      if (records.length === 0) return;
      const text = `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
      await new Promise<void>((resolve, reject) => {
        stream.write(text, (error) => (error ? reject(error) : resolve()));
      });
    },
  };
}
