/**
 * Submitted runs kept beside the queue (`{prefix}:{queue}:faucet-run:{runId}`), so `--detach`
 * can hand back a run id that other commands look up later. Kept a week.
 */
import type { InvocationQueue } from './queue.js';
import type { SubmittedRun } from './types.js';

const KEEP_SECONDS = 7 * 24 * 3600;

/** A key beside the queue's own: `{prefix}:{queue}:{kind}:{id}`. */
export function sideKey(queue: InvocationQueue, kind: string, id: string): string {
  return `${queue.opts.prefix ?? 'bull'}:${queue.name}:${kind}:${id}`;
}

const runKey = (queue: InvocationQueue, runId: string) => sideKey(queue, 'faucet-run', runId);

export async function saveRun(queue: InvocationQueue, run: SubmittedRun): Promise<void> {
  const client = await queue.client;
  await client.set(runKey(queue, run.runId), JSON.stringify(run), { EX: KEEP_SECONDS });
}

export async function loadRun(queue: InvocationQueue, runId: string): Promise<SubmittedRun | undefined> {
  const client = await queue.client;
  const text = await client.get(runKey(queue, runId));
  return text === null ? undefined : (JSON.parse(text) as SubmittedRun);
}

/** Every run still kept, newest first. */
export async function listRuns(queue: InvocationQueue): Promise<SubmittedRun[]> {
  const client = await queue.client;
  const runs: SubmittedRun[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, { MATCH: runKey(queue, '*'), COUNT: 200 });
    cursor = next;
    for (const key of keys) {
      const text = await client.get(key);
      if (text !== null) runs.push(JSON.parse(text) as SubmittedRun);
    }
  } while (cursor !== '0');
  return runs.sort((a, b) => b.submittedAt.localeCompare(a.submittedAt));
}
