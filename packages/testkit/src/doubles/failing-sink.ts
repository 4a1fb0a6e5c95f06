import type { FaucetRecord, Sink, WriteContext, WriteResult } from '@faucet/core';

/** The error the failing doubles throw: a plain Error, like a crash or a client library would raise. */
export class InjectedFailure extends Error {
  constructor(where: string) {
    super(`injected failure: ${where}`);
    this.name = 'InjectedFailure';
  }
}

export interface FailingSinkOptions {
  /** Throw on this 1-based write call (writeIdempotent calls count too), before the inner sink sees it. */
  failAtWrite?: number;
  /**
   * Throw at this 1-based row, counted over every write: the rows before it in that batch reach the
   * inner sink first (a partial write, as a non-transactional sink would leave), then the call throws.
   */
  failAtRow?: number;
  /** Throw on this 1-based flush call, before the inner sink flushes. */
  failAtFlush?: number;
  /** Called on every write with its 1-based number, before anything else (e.g. to abort a run). */
  onWrite?: (write: number, records: readonly FaucetRecord[]) => void;
  /**
   * After the failure, the sink is dead, like a killed process: later calls (the engine's best-effort
   * flush on the way out, close) never reach the inner sink, so only what was flushed before survives.
   */
  kill?: boolean;
  /** What to throw (default: an InjectedFailure). */
  error?: (where: string) => Error;
}

export interface FailingSink extends Sink {
  /** Whether the injected failure has fired. */
  readonly fired: boolean;
  readonly writes: number;
}

/**
 * Wraps a sink and fails it at a chosen write, row or flush, once. Everything else is passed through,
 * including the effectively-once methods, so the wrapped sink keeps its capabilities.
 */
export function failingSink(inner: Sink, options: FailingSinkOptions): FailingSink {
  let writes = 0;
  let flushes = 0;
  let rows = 0;
  let fired = false;
  const boom = (where: string): Error => {
    fired = true;
    return options.error ? options.error(where) : new InjectedFailure(where);
  };

  const dead = (): boolean => fired && options.kill === true;

  const guard = async (
    records: FaucetRecord[],
    forward: (batch: FaucetRecord[]) => Promise<WriteResult | undefined | void>,
  ): Promise<WriteResult | undefined | void> => {
    writes++;
    if (dead()) throw new InjectedFailure('write after the process was killed');
    options.onWrite?.(writes, records);
    if (!fired && options.failAtWrite === writes) throw boom(`write ${writes}`);
    const failRow = options.failAtRow;
    if (!fired && failRow !== undefined && rows + records.length >= failRow) {
      const before = failRow - rows - 1;
      if (before > 0) await forward(records.slice(0, before));
      rows += before;
      throw boom(`row ${failRow} (write ${writes})`);
    }
    rows += records.length;
    return forward(records);
  };

  const sink: FailingSink = {
    get fired() {
      return fired;
    },
    get writes() {
      return writes;
    },
    ...(inner.batchSize === undefined ? {} : { batchSize: inner.batchSize }),
    ...(inner.idempotentWrites === undefined ? {} : { idempotentWrites: inner.idempotentWrites }),
    write(records: FaucetRecord[], ctx: WriteContext) {
      return guard(records, (batch) => inner.write(batch, ctx));
    },
    async flush() {
      flushes++;
      if (!fired && options.failAtFlush === flushes) throw boom(`flush ${flushes}`);
      if (dead()) throw new InjectedFailure('flush after the process was killed');
      await inner.flush?.();
    },
    async close() {
      if (!dead()) await inner.close?.();
    },
  };
  const { writeIdempotent, lastCommittedToken } = inner;
  if (writeIdempotent && lastCommittedToken) {
    sink.writeIdempotent = (records, commit, ctx) =>
      guard(records, (batch) => writeIdempotent.call(inner, batch, commit, ctx));
    sink.lastCommittedToken = (scope) => lastCommittedToken.call(inner, scope);
  }
  return sink;
}
