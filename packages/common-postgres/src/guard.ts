/**
 * An 'error' listener on every `pg` client a faucet package holds. pg-pool listens only while a client
 * sits idle in the pool; a checked-out client, or a client of our own, whose connection breaks — a
 * server restart (SQLSTATE 57P01), `pg_terminate_backend`, a network failure — emits 'error', and
 * with nobody listening Node crashes the process with a raw stack trace. With the guard the error is
 * kept instead: the query in flight fails with it anyway, and the next query on that client, which
 * pg can only answer with "not queryable", is reported with the real cause (`lostConnection`).
 */

const guarded = new WeakSet<object>();
const lost = new WeakMap<object, Error>();

interface ErrorEmitter {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

function isEmitter(value: unknown): value is object & ErrorEmitter {
  return typeof value === 'object' && value !== null && typeof (value as ErrorEmitter).on === 'function';
}

/**
 * Listen for a lost connection on `client` for as long as it lives (once per client: guarding a
 * pooled client at every checkout adds one listener in all). `onLost` hears the first error; give it
 * only for a client that is not shared. Objects that are not event emitters (test doubles) are left
 * alone.
 */
export function guardClient(client: unknown, onLost?: (error: Error) => void): void {
  if (!isEmitter(client) || guarded.has(client)) return;
  guarded.add(client);
  client.on('error', (error: Error) => {
    if (lost.has(client)) return;
    lost.set(client, error);
    onLost?.(error);
  });
}

/** The error that broke this client's connection, or undefined while it is fine (or unguarded). */
export function lostConnection(client: unknown): Error | undefined {
  return typeof client === 'object' && client !== null ? lost.get(client) : undefined;
}

/** The error to report for a failed call on `client`: the lost connection's, which says why. */
export function failureOf(client: unknown, error: unknown): unknown {
  return lostConnection(client) ?? error;
}
