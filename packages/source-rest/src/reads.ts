/**
 * The ways the rest source reads: one request chain (with its cursor filter, running max and
 * conditional validators), the partitions of a partitioned read merged with a concurrency limit,
 * and time windows as slices.
 */
import {
  createCursorFilter,
  createRunningMax,
  errorMessage,
  type FaucetRecord,
  isFaucetError,
  isPartialWindow,
  type Logger,
  type Page,
  paginateRecords,
  type Redactor,
  readSlices,
  resolveStartBookmark,
  type SlicePage,
  type SourceContext,
  SourceError,
  type TimeWindow,
  timeWindows,
} from '@faucet/core';
import type { PartitionValue, RestClient } from './client.js';
import { durationMs } from './config.js';
import { conditionalHeaders, type RestBookmark, readBookmark, writeBookmark } from './incremental.js';
import { type Exchange, paginate } from './pagination.js';
import { mergeConcurrent } from './partitions.js';

export interface Partition {
  value: PartitionValue;
  /** The value made safe for a state key (see `partitionId`). */
  id: string;
}

interface ChainOptions {
  partition: PartitionValue | undefined;
  /** The bookmark this chain resumes from (the run's, or its partition's). */
  stored: RestBookmark;
  exchange: Exchange;
  logger: Logger;
  batchSize: number;
  /**
   * On a 304: true yields one empty page carrying `stored` again (the unpartitioned read, whose
   * one bookmark may be the run's only page); false yields nothing, so the stored value stays as it is.
   */
  pageOn304: boolean;
}

function* chunks(records: FaucetRecord[], size: number): Generator<FaucetRecord[]> {
  for (let i = 0; i < records.length; i += size) yield records.slice(i, i + size);
}

/**
 * A partition's failure, prefixed with the partition's value (and id when they differ). FaucetErrors
 * keep their class, code and fields; the copy leaves the original alone, since one error (a failed
 * token request) can reach several partitions.
 */
function inPartition(error: unknown, partition: Partition, redactor: Redactor): Error {
  const shown = JSON.stringify(partition.value);
  const label = redactor.redact(
    `partition ${shown}${String(partition.value) === partition.id ? '' : ` (id ${partition.id})`}`,
  );
  if (!isFaucetError(error)) {
    return new SourceError(`${label}: ${errorMessage(error)}`, { connector: 'rest', cause: error });
  }
  const copy = Object.create(Object.getPrototypeOf(error)) as typeof error;
  for (const key of Reflect.ownKeys(error)) {
    const descriptor = Reflect.getOwnPropertyDescriptor(error, key);
    if (descriptor) Reflect.defineProperty(copy, key, descriptor);
  }
  copy.message = `${label}: ${error.message}`;
  if (error.stack) copy.stack = error.stack.replace(error.message, copy.message);
  return copy;
}

/** One request chain: its pages re-cut to `batchSize`, the chain's bookmark on the last one. */
function readChain(client: RestClient, chain: ChainOptions): AsyncGenerator<Page, void, undefined> {
  const { stored, logger } = chain;
  const { config } = client;
  const method = config.replication_method;
  const incremental = method.type === 'Incremental' ? method : undefined;
  const start = incremental ? resolveStartBookmark(stored.cursor, incremental.start_value) : undefined;
  const keep = incremental
    ? createCursorFilter({ cursorField: incremental.cursor_field, after: start, logger })
    : undefined;
  const max = incremental
    ? createRunningMax({ cursorField: incremental.cursor_field, initial: start, logger })
    : undefined;
  const conditional = config.conditional_requests;
  const validators: RestBookmark = {};
  let notModified = false;

  async function* records(): AsyncGenerator<FaucetRecord> {
    const request = client.initialRequest(chain.partition, start);
    if (conditional) Object.assign(request.headers, conditionalHeaders(stored));
    let firstPage = true;
    const pages = paginate(request, chain.exchange, client.pagination(logger));
    for await (const page of pages) {
      if (firstPage && conditional) {
        if (page.response.status === 304) notModified = true;
        const etag = page.response.headers.get('etag');
        const lastModified = page.response.headers.get('last-modified');
        if (etag) validators.etag = etag;
        if (lastModified) validators.last_modified = lastModified;
      }
      firstPage = false;
      for (const record of page.records) {
        if (keep && !keep(record)) continue;
        max?.observe(record);
        yield record;
      }
    }
  }

  return paginateRecords(records(), {
    batchSize: chain.batchSize,
    finalBookmark: () => {
      if (notModified) return chain.pageOn304 ? writeBookmark(stored) : undefined;
      const bookmark: RestBookmark = { ...(conditional ? validators : {}) };
      if (max?.value !== undefined) bookmark.cursor = max.value;
      return writeBookmark(bookmark);
    },
  });
}

export function readPlain(client: RestClient, ctx: SourceContext): AsyncGenerator<Page, void, undefined> {
  const logger = ctx.logger ?? client.defaultLogger;
  return readChain(client, {
    partition: undefined,
    stored: readBookmark(ctx.bookmark),
    exchange: client.exchange(ctx.signal, logger),
    logger,
    batchSize: ctx.batchSize,
    pageOn304: true,
  });
}

/**
 * Every partition's chain, `partitions.concurrency` at once, merged through a queue of at most
 * that many pages. Each resumes from its own bookmark (`ctx.partitionBookmark`) and tags every
 * page with its id, so its final page's bookmark lands under `{stateKey}::{id}`. One partition
 * failing aborts the others' requests and fails the read, naming the partition.
 */
export function readPartitioned(
  client: RestClient,
  ctx: SourceContext,
  list: readonly Partition[],
): AsyncGenerator<Page, void, undefined> {
  const logger = ctx.logger ?? client.defaultLogger;
  const concurrency = client.config.partitions?.concurrency ?? 1;
  async function* partitionPages(partition: Partition, signal: AbortSignal): AsyncGenerator<Page> {
    try {
      const stored = readBookmark(await ctx.partitionBookmark?.(partition.id));
      const pages = readChain(client, {
        partition: partition.value,
        stored,
        exchange: client.exchange(signal, logger),
        logger,
        batchSize: ctx.batchSize,
        pageOn304: false,
      });
      for await (const page of pages) yield { ...page, partition: partition.id };
    } catch (error) {
      // Stopped because another partition failed or the run was cancelled: not this one's failure.
      if (signal.aborted) throw error;
      throw inPartition(error, partition, client.redactor);
    }
  }
  return mergeConcurrent(list, { concurrency, capacity: concurrency, signal: ctx.signal }, partitionPages);
}

export async function* readWindows(
  client: RestClient,
  ctx: SourceContext,
): AsyncGenerator<Page, void, undefined> {
  const window = client.config.window;
  if (!window) return;
  const logger = ctx.logger ?? client.defaultLogger;
  const windowMs = durationMs(window.size);
  const exchange = client.exchange(ctx.signal, logger);
  async function* windowPages(slice: TimeWindow): AsyncGenerator<SlicePage> {
    const request = client.initialRequest(undefined, undefined);
    request.url.searchParams.set(window?.field_param_start ?? '', slice.start);
    request.url.searchParams.set(window?.field_param_end ?? '', slice.end);
    const pages = paginate(request, exchange, client.pagination(logger));
    for await (const page of pages) {
      for (const chunk of chunks(page.records, ctx.batchSize)) yield { records: chunk };
    }
  }
  yield* readSlices({
    slices: timeWindows({ start: window.start, end: new Date(client.now()), windowMs }),
    sliceId: (w) => w.id,
    isPartial: (w) => isPartialWindow(w, windowMs),
    bookmark: ctx.bookmark,
    signal: ctx.signal,
    readSlice: (slice) => windowPages(slice),
  });
}

/** The records of the first page of the first request (check and discover). */
export async function firstPage(client: RestClient): Promise<FaucetRecord[]> {
  const controller = new AbortController();
  const exchange = client.exchange(controller.signal, client.defaultLogger);
  const request = client.initialRequest(client.config.partitions?.values[0], undefined);
  const pages = paginate(request, exchange, client.pagination(client.defaultLogger, 1));
  for await (const page of pages) return page.records;
  return [];
}
