/** The S3 source's check(), discover() and status(bookmark). */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  type DiscoveredStream,
  type FaucetRecord,
  type JsonObject,
  type JsonValue,
  silentLogger,
} from '@faucet/core';
import { inferSchema } from '@faucet/formats';
import { ListingPosition } from './bookmark.js';
import type { S3SourceConfig } from './config.js';
import type { SourceParts } from './context.js';
import { listObjects, nextObjects } from './listing.js';
import { s3Url } from './objects.js';
import { readObject } from './read-object.js';
import type { S3SourceOptions } from './source.js';

const DISCOVER_SAMPLE = 100;

export function inspection(config: S3SourceConfig, options: S3SourceOptions, parts: SourceParts) {
  const {
    client,
    bucket,
    filter,
    identity,
    endpoint,
    fail,
    listOptions,
    objectOptions,
    noObjects,
    storedPosition,
  } = parts;
  async function check(): Promise<void> {
    let found = 0;
    try {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: filter.listPrefix || undefined, MaxKeys: 1 }),
      );
      found = page.KeyCount ?? page.Contents?.length ?? 0;
    } catch (error) {
      fail(error, `listing ${s3Url(bucket, filter.listPrefix)}`);
    }
    if (found === 0 && !config.allow_empty) throw noObjects();
  }

  async function discover(): Promise<DiscoveredStream[]> {
    const sample: FaucetRecord[] = [];
    const pass = await nextObjects(listOptions(), () => true, 10);
    for (const object of pass.objects) {
      if (sample.length >= DISCOVER_SAMPLE) break;
      const from = {
        key: object.key,
        etag: object.etag,
        last_modified: object.lastModified,
        offset: 0,
        line: 0,
        row: 0,
      };
      for await (const batch of readObject(objectOptions(object.key, DISCOVER_SAMPLE), object, from)) {
        sample.push(...batch.records.slice(0, DISCOVER_SAMPLE - sample.length));
        if (sample.length >= DISCOVER_SAMPLE) break;
      }
    }
    return [{ name: identity, schema: inferSchema(sample) as JsonObject }];
  }

  async function status(bookmark?: JsonValue): Promise<JsonObject> {
    const stored = storedPosition(bookmark, options.logger ?? silentLogger);
    const position = new ListingPosition(identity, config.lookback_seconds * 1000, stored);
    let matched = 0;
    let pending = 0;
    let pendingBytes = 0;
    for await (const page of listObjects(listOptions())) {
      for (const object of page) {
        matched++;
        if (!position.pending(object)) continue;
        pending++;
        pendingBytes += object.size;
      }
    }
    const facts: JsonObject = {
      source: identity,
      endpoint,
      matched_objects: matched,
      pending_objects: pending,
      pending_bytes: pendingBytes,
    };
    if (stored?.after) {
      facts.last_object = stored.after.key;
      facts.last_modified = new Date(stored.after.last_modified).toISOString();
    }
    if (stored?.current)
      facts.reading = { key: stored.current.key, offset: stored.current.offset, row: stored.current.row };
    return facts;
  }

  return { check, discover, status };
}
