/**
 * DAG children owed an invocation, across runs (`faucet-owed:{pipeline}::{row}`, one field per child
 * job id, holding the job's data). A parent's bookmark moves past a record once its child job is
 * enqueued; if that child then fails, is cancelled or removed, the parent never writes the record
 * again. So a child is recorded here before its job is added and forgotten only when it ends ok, and
 * the next submission of the file adds a job for every child still owed — the queue's counterpart
 * of the pending-parents list a local run keeps in the state store. Not expired: it empties itself.
 */
import type { InvocationQueue } from './queue.js';
import { sideKey } from './runs.js';
import { deleteFields, readFields, setFields } from './side-hash.js';
import type { InvocationJobData } from './types.js';

/** `rowKey` is the child row's `{pipeline}::{row}`. */
const owedKey = (queue: InvocationQueue, rowKey: string) => sideKey(queue, 'faucet-owed', rowKey);

export async function oweChildren(
  queue: InvocationQueue,
  rowKey: string,
  children: ReadonlyArray<{ jobId: string; data: InvocationJobData }>,
): Promise<void> {
  const fields = Object.fromEntries(children.map((c) => [c.jobId, JSON.stringify(c.data)]));
  await setFields(queue, owedKey(queue, rowKey), fields, 0);
}

export function owedChildren(
  queue: InvocationQueue,
  rowKey: string,
): Promise<Map<string, InvocationJobData>> {
  return readFields<InvocationJobData>(queue, owedKey(queue, rowKey));
}

export async function childDone(queue: InvocationQueue, rowKey: string, jobId: string): Promise<void> {
  await deleteFields(queue, owedKey(queue, rowKey), [jobId]);
}
