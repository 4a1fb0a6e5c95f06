/**
 * Listing in (LastModified, key) order with bounded memory. S3 lists keys in key order only, so a
 * pass pages through the whole listing (1000 keys a request) and keeps the `window` pending objects
 * that come first in (LastModified, key) order, in a max-heap: memory holds `window` entries however
 * many keys the prefix has. When more were pending, the caller reads these and makes another pass.
 */
import { ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { compareObjects, type ObjectInfo } from './bookmark.js';

export interface ListingPass {
  /** Pending objects in (LastModified, key) order, at most `window`. */
  objects: ObjectInfo[];
  /** More objects were pending than the window held. */
  truncated: boolean;
  /** Keys that matched prefix/glob, pending or not. */
  matched: number;
}

export interface ListOptions {
  client: S3Client;
  bucket: string;
  prefix: string;
  matches: (key: string) => boolean;
  signal?: AbortSignal;
  /** Called for each page, to map errors (the caller knows the endpoint and bucket). */
  onError: (error: unknown) => never;
}

/** Every matching object, page by page (never the whole listing at once). */
export async function* listObjects(options: ListOptions): AsyncGenerator<ObjectInfo[], void, undefined> {
  let token: string | undefined;
  do {
    let page: ListObjectsV2CommandOutput;
    try {
      page = await options.client.send(
        new ListObjectsV2Command({
          Bucket: options.bucket,
          Prefix: options.prefix || undefined,
          ContinuationToken: token,
        }),
        options.signal ? { abortSignal: options.signal } : {},
      );
    } catch (error) {
      options.onError(error);
    }
    const out: ObjectInfo[] = [];
    for (const item of page.Contents ?? []) {
      const key = item.Key;
      // "Folder" placeholders (keys ending in /) hold no records.
      if (key === undefined || key.endsWith('/') || !options.matches(key)) continue;
      out.push({
        key,
        etag: item.ETag ?? '',
        lastModified: item.LastModified?.getTime() ?? 0,
        size: item.Size ?? 0,
      });
    }
    yield out;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** A max-heap by (LastModified, key) holding at most `limit` entries: the smallest seen. */
class SmallestObjects {
  private readonly heap: ObjectInfo[] = [];
  dropped = false;

  constructor(private readonly limit: number) {}

  offer(object: ObjectInfo): void {
    const heap = this.heap;
    if (heap.length < this.limit) {
      heap.push(object);
      this.up(heap.length - 1);
      return;
    }
    this.dropped = true;
    if (compareObjects(object, heap[0] as ObjectInfo) >= 0) return;
    heap[0] = object;
    this.down(0);
  }

  sorted(): ObjectInfo[] {
    return [...this.heap].sort(compareObjects);
  }

  private up(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compareObjects(heap[i] as ObjectInfo, heap[parent] as ObjectInfo) <= 0) return;
      [heap[i], heap[parent]] = [heap[parent] as ObjectInfo, heap[i] as ObjectInfo];
      i = parent;
    }
  }

  private down(i: number): void {
    const heap = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < heap.length && compareObjects(heap[l] as ObjectInfo, heap[top] as ObjectInfo) > 0) top = l;
      if (r < heap.length && compareObjects(heap[r] as ObjectInfo, heap[top] as ObjectInfo) > 0) top = r;
      if (top === i) return;
      [heap[i], heap[top]] = [heap[top] as ObjectInfo, heap[i] as ObjectInfo];
      i = top;
    }
  }
}

/** One pass over the listing: the first `window` pending objects in (LastModified, key) order. */
export async function nextObjects(
  options: ListOptions,
  pending: (object: ObjectInfo) => boolean,
  window: number,
): Promise<ListingPass> {
  const smallest = new SmallestObjects(window);
  let matched = 0;
  for await (const page of listObjects(options)) {
    for (const object of page) {
      matched++;
      if (pending(object)) smallest.offer(object);
    }
  }
  return { objects: smallest.sorted(), truncated: smallest.dropped, matched };
}
