/**
 * Every way a run can fail, in one table: which FaucetError a failure at each point becomes and what
 * its message says. A FaucetError thrown by a connector is kept as it is (its code and words are the
 * connector's), except where the table says the point always wraps (dead-letter writes: the user must
 * learn that it was the DLQ, not the main sink, that failed).
 */
import {
  ErrorCodes,
  errorMessage,
  FaucetError,
  isFaucetError,
  SinkError,
  SourceError,
  StateError,
} from '../errors.js';
import type { RunNames } from './run-context.js';

/** Where in the run a failure happened. */
export type FailurePoint =
  | 'lock'
  | 'stateRead'
  | 'statePut'
  | 'sourceStart'
  | 'sourceRead'
  | 'sinkWrite'
  | 'sinkFlush'
  | 'sinkToken'
  | 'dlqWrite'
  | 'dlqFlush'
  | 'internal';

/** What a message may name besides the connectors. */
export interface FailureDetails {
  /** The state key involved. */
  key?: string;
  /** Rows in the batch that failed. */
  rows?: number;
  /** Pages read before the failure. */
  pages?: number;
}

interface Rule {
  /** Wrap even a FaucetError (keeping it as the cause). */
  always?: boolean;
  make(names: RunNames, details: FailureDetails, message: string, cause: unknown): FaucetError;
}

const RULES: Record<FailurePoint, Rule> = {
  lock: {
    make: (n, d, m, cause) =>
      new StateError(`state store "${n.state}" failed to lock "${d.key}": ${m}`, {
        cause,
        connector: n.state,
      }),
  },
  stateRead: {
    make: (n, d, m, cause) =>
      new StateError(`state store "${n.state}" failed to read "${d.key}": ${m}`, {
        cause,
        connector: n.state,
      }),
  },
  statePut: {
    make: (n, d, m, cause) =>
      new StateError(`state store "${n.state}" failed to store the bookmark for "${d.key}": ${m}`, {
        cause,
        connector: n.state,
      }),
  },
  sourceStart: {
    make: (n, _d, m, cause) =>
      new SourceError(`source "${n.source}" failed to start: ${m}`, { cause, connector: n.source }),
  },
  sourceRead: {
    make: (n, d, m, cause) =>
      new SourceError(`source "${n.source}" failed after ${d.pages ?? 0} pages: ${m}`, {
        cause,
        connector: n.source,
      }),
  },
  sinkWrite: {
    make: (n, d, m, cause) =>
      new SinkError(`sink "${n.sink}" failed to write a batch of ${d.rows ?? 0} rows: ${m}`, {
        cause,
        connector: n.sink,
      }),
  },
  sinkFlush: {
    make: (n, _d, m, cause) =>
      new SinkError(`sink "${n.sink}" failed to flush: ${m}`, {
        cause,
        connector: n.sink,
        code: ErrorCodes.SINK_FLUSH_FAILED,
      }),
  },
  sinkToken: {
    make: (n, _d, m, cause) =>
      new SinkError(`sink "${n.sink}" failed to read its last commit token: ${m}`, {
        cause,
        connector: n.sink,
      }),
  },
  dlqWrite: {
    always: true,
    make: (n, d, m, cause) =>
      new FaucetError(`dlq sink "${n.dlq}" failed to write ${d.rows ?? 0} dead-lettered rows: ${m}`, {
        cause,
        code: ErrorCodes.DLQ_WRITE_FAILED,
        connector: n.dlq,
      }),
  },
  dlqFlush: {
    always: true,
    make: (n, _d, m, cause) =>
      new FaucetError(`dlq sink "${n.dlq}" failed to flush: ${m}`, {
        cause,
        code: ErrorCodes.DLQ_WRITE_FAILED,
        connector: n.dlq,
      }),
  },
  internal: {
    make: (_n, _d, m, cause) => new FaucetError(m, { cause, code: ErrorCodes.INTERNAL }),
  },
};

/** The FaucetError a failure at `point` becomes. */
export function wrapFailure(
  point: FailurePoint,
  error: unknown,
  names: RunNames,
  details: FailureDetails = {},
): FaucetError {
  const rule = RULES[point];
  if (isFaucetError(error) && !rule.always) return error;
  return rule.make(names, details, errorMessage(error), error);
}

/** Await `fn`; a rejection becomes the FaucetError of `point`. */
export async function failingAs<T>(
  point: FailurePoint,
  names: RunNames,
  details: FailureDetails,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw wrapFailure(point, error, names, details);
  }
}
