/**
 * The FaucetError family. Every error a user sees from faucet is one of these, with a stable `code`
 * that scripts and dashboards can match on. Client errors are wrapped (kept as `cause`), never thrown
 * raw, and messages never contain secrets.
 */

export const ErrorCodes = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  CONNECTION_FAILED: 'CONNECTION_FAILED',
  AUTH_FAILED: 'AUTH_FAILED',
  TIMEOUT: 'TIMEOUT',
  RATE_LIMITED: 'RATE_LIMITED',
  SOURCE_FAILED: 'SOURCE_FAILED',
  SINK_WRITE_FAILED: 'SINK_WRITE_FAILED',
  SINK_FLUSH_FAILED: 'SINK_FLUSH_FAILED',
  SINK_ROW_REJECTED: 'SINK_ROW_REJECTED',
  ROWS_FAILED_WITHOUT_DLQ: 'ROWS_FAILED_WITHOUT_DLQ',
  DLQ_WRITE_FAILED: 'DLQ_WRITE_FAILED',
  DLQ_BUDGET_EXCEEDED: 'DLQ_BUDGET_EXCEEDED',
  STATE_FAILED: 'STATE_FAILED',
  STATE_LOCKED: 'STATE_LOCKED',
  STATE_KEY_INVALID: 'STATE_KEY_INVALID',
  TRANSFORM_FAILED: 'TRANSFORM_FAILED',
  /** A source record that could not be decoded (bad JSON, wrong field count). */
  RECORD_INVALID: 'RECORD_INVALID',
  CANCELLED: 'CANCELLED',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes] | (string & {});

export interface FaucetErrorOptions {
  code?: ErrorCode;
  retryable?: boolean;
  /** The connector id (`rest`, `postgres`, ...) the error came from. */
  connector?: string;
  cause?: unknown;
}

const FAUCET_ERROR = Symbol.for('faucet.error');

export class FaucetError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly connector: string | undefined;
  /** Brand so errors are recognised across duplicated copies of @faucet/core. */
  readonly [FAUCET_ERROR] = true;

  constructor(message: string, options: FaucetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? ErrorCodes.INTERNAL;
    this.retryable = options.retryable ?? false;
    this.connector = options.connector;
  }

  toJSON(): { name: string; code: string; message: string; retryable: boolean; connector?: string } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.connector === undefined ? {} : { connector: this.connector }),
    };
  }
}

export function isFaucetError(value: unknown): value is FaucetError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [FAUCET_ERROR]?: unknown })[FAUCET_ERROR] === true
  );
}

export interface ConfigIssue {
  /** Dotted path into the config, e.g. `source.config.auth.token` or `transforms[2].fields`. */
  path: string;
  message: string;
}

/** A config that cannot run. Lists every problem at once, one `path: message` line each. */
export class ConfigError extends FaucetError {
  readonly issues: readonly ConfigIssue[];

  constructor(
    issues: readonly ConfigIssue[] | string,
    options: Omit<FaucetErrorOptions, 'code' | 'retryable'> & { context?: string } = {},
  ) {
    const list = typeof issues === 'string' ? [{ path: '', message: issues }] : issues;
    const head = options.context ?? 'invalid configuration';
    const lines = list.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    const message = lines.length === 1 ? `${head}: ${lines[0]}` : `${head}:\n  ${lines.join('\n  ')}`;
    super(message, { ...options, code: ErrorCodes.CONFIG_INVALID, retryable: false });
    this.issues = list;
  }
}

/** A server could not be reached. Names host and port, never credentials. */
export class ConnectionError extends FaucetError {
  constructor(message: string, options: Omit<FaucetErrorOptions, 'code'> = {}) {
    super(message, { retryable: true, ...options, code: ErrorCodes.CONNECTION_FAILED });
  }
}

export class AuthError extends FaucetError {
  constructor(message: string, options: Omit<FaucetErrorOptions, 'code' | 'retryable'> = {}) {
    super(message, { ...options, code: ErrorCodes.AUTH_FAILED, retryable: false });
  }
}

export class TimeoutError extends FaucetError {
  constructor(message: string, options: Omit<FaucetErrorOptions, 'code'> = {}) {
    super(message, { retryable: true, ...options, code: ErrorCodes.TIMEOUT });
  }
}

export class RateLimitedError extends FaucetError {
  /** How long the server asked us to wait, when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    options: Omit<FaucetErrorOptions, 'code'> & { retryAfterMs?: number | undefined } = {},
  ) {
    super(message, { retryable: true, ...options, code: ErrorCodes.RATE_LIMITED });
    this.retryAfterMs = options.retryAfterMs;
  }
}

export class SourceError extends FaucetError {
  constructor(message: string, options: FaucetErrorOptions = {}) {
    super(message, { code: ErrorCodes.SOURCE_FAILED, ...options });
  }
}

export class SinkError extends FaucetError {
  constructor(message: string, options: FaucetErrorOptions = {}) {
    super(message, { code: ErrorCodes.SINK_WRITE_FAILED, ...options });
  }
}

export class StateError extends FaucetError {
  constructor(message: string, options: FaucetErrorOptions = {}) {
    super(message, { code: ErrorCodes.STATE_FAILED, ...options });
  }
}

/** Another live run holds the lock on this state key. */
export class StateLockedError extends StateError {
  readonly key: string;
  readonly holder: string | undefined;

  constructor(key: string, holder: string | undefined, options: Omit<FaucetErrorOptions, 'code'> = {}) {
    super(
      `state key "${key}" is locked by another run${holder ? ` (holder: ${holder})` : ''}; ` +
        'wait for it to finish, or remove the lock if that run is known to be dead',
      { ...options, code: ErrorCodes.STATE_LOCKED, retryable: false },
    );
    this.key = key;
    this.holder = holder;
  }
}

export class TransformError extends FaucetError {
  constructor(message: string, options: Omit<FaucetErrorOptions, 'code'> = {}) {
    super(message, { ...options, code: ErrorCodes.TRANSFORM_FAILED, retryable: false });
  }
}

export class CancelledError extends FaucetError {
  constructor(message = 'the run was cancelled', options: Omit<FaucetErrorOptions, 'code'> = {}) {
    super(message, { ...options, code: ErrorCodes.CANCELLED, retryable: false });
  }
}

const RETRYABLE_NODE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Whether retrying the operation that threw `error` can help: transport errors, 5xx, 429. */
export function isRetryable(error: unknown): boolean {
  if (isFaucetError(error)) return error.retryable;
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_NODE_CODES.has(code)) return true;
  }
  return false;
}

/** A short, stable name for an error, used as the DLQ `error.kind` and in logs. */
export function errorKind(error: unknown): string {
  if (isFaucetError(error)) return error.code;
  if (error instanceof Error) return error.name || 'Error';
  return 'Error';
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

/**
 * Wrap anything thrown by a connector into a FaucetError, keeping an existing FaucetError as is.
 * `make` builds the wrapper for foreign errors.
 */
export function toFaucetError(
  error: unknown,
  make: (message: string, cause: unknown) => FaucetError,
): FaucetError {
  if (isFaucetError(error)) return error;
  return make(errorMessage(error), error);
}
