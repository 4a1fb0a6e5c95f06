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
  const capture = (records: FaucetRecord[], result: WriteResult | undefined | void): void => {
    const failed = new Set((result?.failed ?? []).map((f) => f.index));
    records.forEach((record, i) => {
      if (!failed.has(i)) into.push(projectRecord(record, paths));
    });
  };
  const sink: {
    -readonly [K in keyof Sink]: Sink[K];
  } = {
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
