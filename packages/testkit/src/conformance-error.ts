/**
 * How a broken rule is reported. Every check throws a `ConformanceError` that names the connector,
 * the rule (a stable id plus the rule in plain words) and what was observed, so a failing suite
 * tells the author what to fix without reading the testkit's code.
 */

export type ConnectorKind = 'source' | 'sink' | 'state store';

/** The rules the battery enforces, by stable id. */
export const Rules = {
  'config-schema': 'the config schema is valid JSON Schema and rejects a wrong config with `path: message`',
  'records-json': 'records are plain JSON objects',
  'bounded-pages': 'pages never exceed batchSize, and a full read yields every record exactly once',
  streaming: 'the source streams: it yields its first page before it has read everything',
  'bookmarks-declared': 'pages carry bookmarks as the connector declares',
  'bookmark-round-trip': 'resuming from a bookmark yields strictly the remaining records, none missing',
  'crash-resume': 'after a crash, a resumed run loses nothing and duplicates at most one checkpoint interval',
  delivery: 'a clean run delivers every record exactly once',
  'row-failures': 'per-row failures are reported truthfully: indexes in range, one per failed row',
  'keyed-upsert': 'a keyed sink converges: writing a record again replaces it',
  'effectively-once': 'an effectively-once sink loses nothing and duplicates nothing across a crash',
  'typed-errors':
    'errors are FaucetErrors with a code; an unreachable server is named by host and port, never the password',
  cancellation: 'cancellation finishes the current page, makes it durable, and stops',
  secrets: 'a secret config value never appears in errors, logs or DLQ envelopes',
  'state-round-trip': 'get/put/delete/list round-trip values, each caller gets its own copy',
  'state-atomic-put': 'put replaces a value atomically: readers see the old or the new value, never a mix',
  'state-lock': 'lock excludes a second holder, names the key, and is released',
  'state-durable': 'a value put through one store instance is read back through another',
  'state-engine-lock':
    'of two runs of one state key started at once, one runs and the other is refused with STATE_LOCKED',
} as const;

export type RuleId = keyof typeof Rules;

const CONFORMANCE_ERROR = Symbol.for('faucet.testkit.conformance-error');

export class ConformanceError extends Error {
  readonly kind: ConnectorKind;
  readonly connector: string;
  readonly rule: RuleId;
  readonly detail: string;
  readonly [CONFORMANCE_ERROR] = true;

  constructor(
    kind: ConnectorKind,
    connector: string,
    rule: RuleId,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${kind} "${connector}" breaks rule ${rule} (${Rules[rule]}): ${detail}`, options);
    this.name = 'ConformanceError';
    this.kind = kind;
    this.connector = connector;
    this.rule = rule;
    this.detail = detail;
  }
}

export function isConformanceError(value: unknown): value is ConformanceError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [CONFORMANCE_ERROR]?: unknown })[CONFORMANCE_ERROR] === true
  );
}

/** The failure reporter of one check: `fail('…')` throws a ConformanceError for that connector and rule. */
export interface Violation {
  (detail: string, cause?: unknown): never;
  readonly kind: ConnectorKind;
  readonly connector: string;
  readonly rule: RuleId;
}

export function violation(kind: ConnectorKind, connector: string, rule: RuleId): Violation {
  const fail = (detail: string, cause?: unknown): never => {
    throw new ConformanceError(kind, connector, rule, detail, cause === undefined ? undefined : { cause });
  };
  return Object.assign(fail, { kind, connector, rule });
}

/** A short, one-line description of anything thrown, for failure messages. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message}`;
  }
  return typeof error === 'string' ? error : String(error);
}
