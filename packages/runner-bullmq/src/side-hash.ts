/**
 * Hashes kept beside the queue (`{prefix}:{queue}:{kind}:{id}`) for what BullMQ itself does not
 * record: the DAG children a run's workers added, how each row of a run ended, the children owed
 * across runs. BullMQ's client interface has no EXPIRE, so a small script sets fields and expiry
 * together; a hash without an expiry uses plain HSET.
 */
import type { InvocationQueue } from './queue.js';

const HSET_EXPIRE = 'faucetHsetExpire';
const HSET_EXPIRE_LUA = `
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if tonumber(ARGV[1]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 1`;

const withScript = new WeakSet<object>();

type Client = Awaited<InvocationQueue['client']>;

async function scriptedClient(queue: InvocationQueue): Promise<Client> {
  const client = await queue.client;
  if (!withScript.has(client)) {
    client.defineCommand(HSET_EXPIRE, { numberOfKeys: 1, lua: HSET_EXPIRE_LUA });
    withScript.add(client);
  }
  return client;
}

/** Set hash fields; the hash expires `seconds` after the last write (0: never). */
export async function setFields(
  queue: InvocationQueue,
  key: string,
  fields: Record<string, string>,
  seconds: number,
): Promise<void> {
  const entries = Object.entries(fields);
  if (entries.length === 0) return;
  const client = await scriptedClient(queue);
  await client.runCommand(HSET_EXPIRE, [key, seconds, ...entries.flat()]);
}

/** Every field of a hash, values parsed as JSON (a field that does not parse is left out). */
export async function readFields<T>(queue: InvocationQueue, key: string): Promise<Map<string, T>> {
  const client = await queue.client;
  const out = new Map<string, T>();
  for (const [field, text] of Object.entries(await client.hgetall(key))) {
    try {
      out.set(field, JSON.parse(text) as T);
    } catch {
      // written by another version: ignored rather than failing the run
    }
  }
  return out;
}

export async function deleteFields(queue: InvocationQueue, key: string, fields: string[]): Promise<void> {
  if (fields.length === 0) return;
  const client = await queue.client;
  await client.hdel(key, ...fields);
}
