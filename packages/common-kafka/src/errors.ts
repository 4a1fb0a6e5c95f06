/**
 * kafkajs errors as FaucetErrors: the broker list, the action and (when known) the topic are named;
 * credentials never are. Retries that kafkajs gave up on are unwrapped to the error that caused them.
 */
import {
  AuthError,
  ConnectionError,
  type FaucetError,
  type FaucetErrorOptions,
  isFaucetError,
  type Redactor,
  TimeoutError,
} from '@faucet/core';

export interface KafkaErrorContext {
  /** Who speaks: `kafka source`, `kafka sink`. */
  name: string;
  /** The connector id, for the error. */
  connector: string;
  /** `a:9092, b:9092`. */
  brokers: string;
  /** What was being done: `reading topic "orders"`, `connecting`. */
  action: string;
  redactor: Redactor;
  /** The error kind for everything that is not a connection, auth or timeout problem. */
  failure: (message: string, options: FaucetErrorOptions) => FaucetError;
  /** The SASL user, to name it when authentication fails. */
  user?: string;
}

interface KafkaJsLike {
  name?: string;
  message?: string;
  type?: string;
  retriable?: boolean;
  cause?: unknown;
  originalError?: unknown;
}

const AUTHORIZATION = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

/** The error that made kafkajs give up (it wraps the last one in KafkaJSNumberOfRetriesExceeded). */
export function rootKafkaError(error: unknown): KafkaJsLike {
  let current = error as KafkaJsLike;
  for (let depth = 0; depth < 5; depth++) {
    const inner = current?.cause ?? current?.originalError;
    if (current?.name !== 'KafkaJSNumberOfRetriesExceeded' && current?.name !== 'KafkaJSNonRetriableError')
      break;
    if (typeof inner !== 'object' || inner === null) break;
    current = inner as KafkaJsLike;
  }
  return current ?? {};
}

/** The protocol error type (`UNKNOWN_TOPIC_OR_PARTITION`, …) of a kafkajs error, if it has one. */
export function kafkaErrorType(error: unknown): string | undefined {
  const root = rootKafkaError(error);
  return typeof root.type === 'string' ? root.type : undefined;
}

function isConnectionProblem(root: KafkaJsLike): boolean {
  return (
    root.name === 'KafkaJSConnectionError' ||
    root.name === 'KafkaJSConnectionClosedError' ||
    root.name === 'KafkaJSBrokerNotFound' ||
    root.name === 'KafkaJSNoBrokerAvailableError'
  );
}

/** Wrap anything kafkajs threw (a FaucetError passes through unchanged). */
export function mapKafkaError(error: unknown, ctx: KafkaErrorContext): FaucetError {
  if (isFaucetError(error)) return error;
  const root = rootKafkaError(error);
  const where = `${ctx.name} (${ctx.brokers})`;
  const said = ctx.redactor.redact(String(root.message ?? error));
  const base = { cause: error, connector: ctx.connector };
  if (root.name === 'KafkaJSSASLAuthenticationError') {
    return new AuthError(
      `${where}: authentication failed${ctx.user ? ` for user "${ctx.user}"` : ''} while ${ctx.action}; ` +
        'check auth.username, auth.password and auth.mechanism',
      base,
    );
  }
  if (root.type && AUTHORIZATION.has(root.type)) {
    return new AuthError(`${where}: not authorized (ACL, ${root.type}) while ${ctx.action}`, base);
  }
  if (isConnectionProblem(root)) {
    return new ConnectionError(`${where}: cannot reach the brokers while ${ctx.action}: ${said}`, base);
  }
  if (root.name === 'KafkaJSGroupCoordinatorNotFound') {
    // kafkajs drops the broker's reason here; a group the ACLs deny this user is the usual one.
    return ctx.failure(
      `${where}: ${ctx.action} failed: no broker named the group's coordinator ` +
        '(an ACL may deny this user the consumer group, or the brokers are still starting)',
      { ...base, retryable: false },
    );
  }
  if (root.name === 'KafkaJSRequestTimeoutError' || root.name === 'KafkaJSTimeout') {
    return new TimeoutError(`${where}: a request timed out while ${ctx.action}`, base);
  }
  const type = root.type ? ` (${root.type})` : '';
  return ctx.failure(`${where}: ${ctx.action} failed${type}: ${said}`, {
    ...base,
    retryable: root.retriable === true,
  });
}
