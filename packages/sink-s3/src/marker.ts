/**
 * The effectively-once marker of one commit scope: a small JSON object under
 * `{prefix}_faucet/commits/{scope}.json` holding the last committed token and the part being
 * written (`inflight`: the token of its first page and its key). `lastCommittedToken` reads it. A
 * crash after a part became visible but before the marker moved leaves the marker behind: the engine
 * then replays from the older token, the replayed pages open the part under the same key (taken from
 * `inflight`, so a date in the key cannot change), and completing it answers "already exists" —
 * nothing is written twice.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isNotFound } from '@faucet/common-s3';

export interface Marker {
  scope: string;
  committed?: string;
  inflight?: { token: string; key: string };
}

export function markerKey(prefix: string, scope: string): string {
  return `${prefix}_faucet/commits/${encodeURIComponent(scope)}.json`;
}

export interface MarkerStore {
  read(scope: string): Promise<Marker | undefined>;
  write(marker: Marker): Promise<void>;
}

export function createMarkerStore(
  client: S3Client,
  bucket: string,
  prefix: string,
  onError: (error: unknown, action: string) => never,
): MarkerStore {
  const cache = new Map<string, Marker | undefined>();
  return {
    async read(scope) {
      if (cache.has(scope)) return cache.get(scope);
      const key = markerKey(prefix, scope);
      let marker: Marker | undefined;
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const text = await (response.Body as { transformToString(): Promise<string> }).transformToString();
        const parsed = JSON.parse(text) as Marker;
        marker = { scope, ...(parsed.committed ? { committed: parsed.committed } : {}) };
        if (parsed.inflight?.token && parsed.inflight.key) marker.inflight = parsed.inflight;
      } catch (error) {
        if (!isNotFound(error)) onError(error, `reading the commit marker s3://${bucket}/${key}`);
      }
      cache.set(scope, marker);
      return marker;
    },
    async write(marker) {
      const key = markerKey(prefix, marker.scope);
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: JSON.stringify(marker),
            ContentType: 'application/json',
          }),
        );
      } catch (error) {
        onError(error, `writing the commit marker s3://${bucket}/${key}`);
      }
      cache.set(marker.scope, marker);
    },
  };
}
