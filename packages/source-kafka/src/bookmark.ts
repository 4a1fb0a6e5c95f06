/**
 * The bookmark of the kafka source: the next offset of every partition it has read, in one value
 * (`Page.partition` is not used: effectively-once delivery needs one position for the whole run, and
 * a page may hold messages of several partitions). It names its kind and the cluster it belongs to,
 * so offsets are never applied to another cluster's topics of the same name.
 *
 *   {kind: 'kafka-offsets', cluster: 'q1Sh…', offsets: [{topic: 'orders', partition: 0, offset: 1234}]}
 */
import { type JsonObject, type JsonValue, SourceError } from '@faucet/core';

export interface PartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to read. */
  offset: number;
}

export const BOOKMARK_KIND = 'kafka-offsets';

/** `topic:partition`: topic names cannot hold a colon, so this is unambiguous. */
export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;

function fail(why: string): never {
  throw new SourceError(
    `kafka source: the stored bookmark ${why}; delete it (faucet state delete <key>) to start over`,
    { connector: 'kafka' },
  );
}

/** Validate a stored bookmark: its offsets by partition key (empty when there is none). */
export function parseBookmark(
  value: JsonValue | undefined,
  cluster: string | null,
): Map<string, PartitionOffset> {
  const out = new Map<string, PartitionOffset>();
  if (value === undefined || value === null) return out;
  if (typeof value !== 'object' || Array.isArray(value)) fail('is not an object');
  const b = value as JsonObject;
  if (b.kind !== BOOKMARK_KIND) fail(`has kind ${JSON.stringify(b.kind ?? null)}, not ${BOOKMARK_KIND}`);
  if (cluster !== null && typeof b.cluster === 'string' && b.cluster !== cluster) {
    fail(`belongs to Kafka cluster ${b.cluster}, but the brokers are cluster ${cluster}`);
  }
  if (!Array.isArray(b.offsets)) fail('has no offsets list');
  for (const entry of b.offsets as JsonValue[]) {
    const e = entry as JsonObject;
    if (
      typeof e !== 'object' ||
      e === null ||
      typeof e.topic !== 'string' ||
      !Number.isSafeInteger(e.partition) ||
      !Number.isSafeInteger(e.offset) ||
      (e.offset as number) < 0
    ) {
      fail(`has a malformed offset entry ${JSON.stringify(entry)}`);
    }
    const offset = { topic: e.topic as string, partition: e.partition as number, offset: e.offset as number };
    out.set(partitionKey(offset.topic, offset.partition), offset);
  }
  return out;
}

/** The bookmark for these positions, in a stable order. */
export function buildBookmark(cluster: string | null, offsets: Iterable<PartitionOffset>): JsonObject {
  const list = [...offsets].sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
  );
  return {
    kind: BOOKMARK_KIND,
    cluster,
    offsets: list.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })),
  };
}
