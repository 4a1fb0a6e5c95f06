/**
 * Deliberately broken connectors. Each breaks one rule the way real connectors do, so the testkit's
 * own tests can show every check failing where it must.
 */
import {
  ConnectionError,
  createMemoryStateStore,
  defineSink,
  defineSource,
  type FaucetRecord,
  type JsonValue,
  type Page,
  type Sink,
  type Source,
  type SourceContext,
  StateError,
  StateLockedError,
  type StateStore,
  secret,
} from '@faucet/core';
import type { MemorySinkStorage } from '@faucet/testkit';
import { z } from 'zod';
import { refused } from './helpers.js';

// ---------------------------------------------------------------- sources

export interface ToySourceOptions {
  records: readonly FaucetRecord[];
  /** Page size from the asked batch size (a broken one ignores it). */
  pageSize?: (batchSize: number) => number;
  /** Read everything from the "backend" before yielding anything. */
  bufferFirst?: boolean;
  /** Where a resumed read starts, from the bookmark's offset (a broken one ignores or skips). */
  resumeAt?: (offset: number) => number;
  /** Yield one bookmark object and mutate it for later pages. */
  aliasBookmark?: boolean;
  /** On a fresh read, wait between pages (a poll); `ignoreSignal` keeps waiting after cancellation. */
  delayMs?: number;
  ignoreSignal?: boolean;
  /** Yield Date objects instead of ISO strings. */
  dates?: boolean;
}

export function toySource(options: ToySourceOptions): Source & { readonly served: number } {
  let served = 0;
  const total = options.records.length;
  return {
    get served() {
      return served;
    },
    async *read(ctx: SourceContext): AsyncIterable<Page> {
      const size = options.pageSize ? options.pageSize(ctx.batchSize) : ctx.batchSize;
      const bookmarkOffset = (ctx.bookmark as { offset?: number } | undefined)?.offset;
      const from = bookmarkOffset === undefined ? 0 : (options.resumeAt ?? ((o) => o))(bookmarkOffset);
      let all: FaucetRecord[] | undefined;
      if (options.bufferFirst) {
        all = options.records.slice(from).map((r) => structuredClone(r));
        served += all.length;
      }
      const shared: { offset: number } = { offset: from };
      for (let offset = from; offset < total; offset += size) {
        if (offset > from && options.delayMs && ctx.bookmark === undefined) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, options.delayMs);
            if (options.ignoreSignal) return;
            ctx.signal.addEventListener('abort', () => {
              clearTimeout(timer);
              resolve();
            });
          });
          if (!options.ignoreSignal && ctx.signal.aborted) return;
        }
        const end = Math.min(offset + size, total);
        const page = all
          ? all.slice(offset - from, end - from)
          : options.records.slice(offset, end).map((r) => structuredClone(r));
        if (!all) served += page.length;
        const records = options.dates
          ? page.map((r) => ({ ...r, created_at: new Date(String(r.created_at)) as unknown as JsonValue }))
          : page;
        let bookmark: JsonValue;
        if (options.aliasBookmark) {
          shared.offset = end;
          bookmark = shared;
        } else bookmark = { offset: end };
        yield { records, bookmark };
      }
    },
  };
}

/** A source whose server is down, failing in a chosen way. */
export function downSource(fail: () => Error | Promise<never>): Source {
  const go = async (): Promise<never> => {
    const outcome = fail();
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  return {
    check: go,
    // biome-ignore lint/correctness/useYield: it fails before its first page
    async *read(): AsyncIterable<Page> {
      await go();
    },
  };
}

export const rawRefusal = (): Error =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', errno: -111 });
export const leakyRefusal = (): Error =>
  new ConnectionError('toy: cannot reach 127.0.0.1:1 as app (password s3cret-pa55)', { connector: 'toy' });
export const namelessRefusal = (): Error =>
  new ConnectionError('toy: connection refused', { connector: 'toy' });
export const hang = (): Promise<never> => new Promise<never>(() => {});

// ---------------------------------------------------------------- descriptors (config + secrets)

const toyConfig = z.strictObject({
  url: z.url().describe('Server URL'),
  token: secret(z.string().min(3)).describe('API token'),
  count: z.number().int().min(1).default(10),
});

function toyServer(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '80'}`;
}

/** A well-behaved source descriptor whose server is down: errors name host:port, never the token. */
export const toySourceDescriptor = defineSource<z.infer<typeof toyConfig>>({
  id: 'toy',
  configSchema: toyConfig,
  create(config, env) {
    env.logger.debug('toy source created', { server: toyServer(config.url) });
    return downSource(
      () => new ConnectionError(`toy: cannot reach ${toyServer(config.url)}`, { connector: 'toy' }),
    );
  },
});

export const acceptsAnythingDescriptor = defineSource({
  id: 'anything',
  configSchema: z.record(z.string(), z.unknown()),
  create: () => toySource({ records: [] }),
});

/** A hand-written Standard Schema whose JSON Schema is not valid JSON Schema. */
export const invalidJsonSchemaDescriptor = defineSource<{ url: string }>({
  id: 'bad_json_schema',
  configSchema: {
    '~standard': {
      version: 1,
      vendor: 'toy',
      validate: (value: unknown) =>
        typeof (value as { url?: unknown })?.url === 'string'
          ? { value: value as { url: string } }
          : { issues: [{ message: 'expected a string', path: ['url'] }] },
      jsonSchema: {
        input: () => ({ type: 'object', properties: { url: { type: 'uri' } }, required: 'url' }),
        output: () => ({ type: 'object' }),
      },
    },
  },
  create: () => toySource({ records: [] }),
});

/** Rejects a wrong config, but its problems carry no path. */
export const pathlessDescriptor = defineSource<{ url: string }>({
  id: 'pathless',
  configSchema: {
    '~standard': {
      version: 1,
      vendor: 'toy',
      validate: (value: unknown) =>
        typeof (value as { url?: unknown })?.url === 'string'
          ? { value: value as { url: string } }
          : { issues: [{ message: 'config is wrong' }] },
      jsonSchema: {
        input: () => ({ type: 'object', properties: { url: { type: 'string' } }, required: ['url'] }),
        output: () => ({ type: 'object' }),
      },
    },
  },
  create: () => toySource({ records: [] }),
});

/** Forgets to mark the token secret(). */
export const unmarkedSecretDescriptor = defineSource({
  id: 'unmarked',
  configSchema: z.strictObject({ url: z.url(), token: z.string().min(3) }),
  create: (config) => downSource(() => new ConnectionError(`toy: cannot reach ${toyServer(config.url)}`)),
});

/** Marks the token, then logs it. */
export const loggingSecretDescriptor = defineSource<z.infer<typeof toyConfig>>({
  id: 'chatty',
  configSchema: toyConfig,
  create(config, env) {
    env.logger.info(`toy source connecting to ${config.url} with token ${config.token}`);
    return downSource(() => new ConnectionError(`toy: cannot reach ${toyServer(config.url)}`));
  },
});

/** Marks the token, then puts it in an error message. */
export const erroringSecretDescriptor = defineSource<z.infer<typeof toyConfig>>({
  id: 'blurty',
  configSchema: toyConfig,
  create: (config) =>
    downSource(() => new ConnectionError(`toy: ${toyServer(config.url)} refused token ${config.token}`)),
});

const sinkConfig = z.strictObject({ token: secret(z.string().min(3)) });

/** A sink that rejects rows with `bad: true`; `leak` puts the token into each row error. */
function tokenSink(token: string, leak: boolean): Sink {
  return {
    async write(records) {
      const failed = records.flatMap((record, index) =>
        record.bad
          ? [{ index, error: new Error(leak ? `row refused for token ${token}` : 'row refused: bad') }]
          : [],
      );
      return { failed };
    },
  };
}

export const toySinkDescriptor = defineSink<z.infer<typeof sinkConfig>>({
  id: 'toy_sink',
  configSchema: sinkConfig,
  create: (config) => tokenSink(config.token, false),
});
export const leakySinkDescriptor = defineSink<z.infer<typeof sinkConfig>>({
  id: 'leaky_sink',
  configSchema: sinkConfig,
  create: (config) => tokenSink(config.token, true),
});

// ---------------------------------------------------------------- sinks

export interface ToySinkOptions {
  /** Silently drop every nth row. */
  dropEvery?: number;
  /** Persist the buffer only on every nth flush (flush resolves before rows are durable). */
  persistEveryFlush?: number;
  /** How a failure for the bad row at `index` is reported (a broken one lies). */
  reportFailure?: (index: number, batchLength: number) => number[];
  /** Write rejected rows anyway. */
  writeRejected?: boolean;
  /** Drop rejected rows without reporting them. */
  hideRejected?: boolean;
  /** Claim effectively-once but forget tokens. */
  forgetTokens?: boolean;
}

/** An append sink over shared storage, with one chosen defect. Rows with `bad: true` are rejected. */
export function toySink(storage: MemorySinkStorage, options: ToySinkOptions = {}): Sink {
  let buffer: FaucetRecord[] = [];
  let flushes = 0;
  let seen = 0;
  const sink: Sink = {
    async write(records) {
      const failed: { index: number; error: Error }[] = [];
      records.forEach((record, index) => {
        seen++;
        if (options.dropEvery && seen % options.dropEvery === 0) return;
        if (record.bad) {
          if (options.writeRejected) buffer.push(record);
          if (options.hideRejected) return;
          const indexes = options.reportFailure ? options.reportFailure(index, records.length) : [index];
          for (const i of indexes) failed.push({ index: i, error: new Error('bad row') });
          return;
        }
        buffer.push(record);
      });
      return { failed };
    },
    async flush() {
      flushes++;
      if (options.persistEveryFlush && flushes % options.persistEveryFlush !== 0) return;
      storage.rows.push(...buffer);
      buffer = [];
    },
  };
  if (options.forgetTokens) {
    sink.writeIdempotent = async (records) => {
      storage.rows.push(...records);
      return undefined;
    };
    sink.lastCommittedToken = async () => undefined;
  }
  return sink;
}

/** A sink whose server is down, failing in a chosen way on write. */
export function downSink(fail: () => Error): Sink {
  return {
    async write() {
      throw fail();
    },
  };
}

// ---------------------------------------------------------------- state stores

export interface ToyStoreOptions {
  /** Hand out and keep the caller's objects instead of copies. */
  shareReferences?: boolean;
  /** list() ignores its prefix. */
  listIgnoresPrefix?: boolean;
  /** put() removes the old value, then writes the new one a moment later. */
  nonAtomicPut?: boolean;
  /** put() of a value JSON cannot hold throws a raw TypeError. */
  rawErrors?: boolean;
  /**
   * lock(): 'ok', one that never excludes, one that never releases, one that throws a raw Error, or
   * one that waits for the holder to release instead of refusing.
   */
  lock?: 'ok' | 'shared' | 'sticky' | 'raw' | 'waits';
}

export function toyStore(map: Map<string, JsonValue> = new Map(), options: ToyStoreOptions = {}): StateStore {
  const locks = new Map<string, symbol>();
  const copy = <T>(value: T): T => (options.shareReferences ? value : structuredClone(value));
  return {
    durable: true,
    async get(key) {
      const value = map.get(key);
      return value === undefined ? undefined : copy(value);
    },
    async put(key, value) {
      let stored: JsonValue;
      try {
        stored = options.shareReferences ? value : (JSON.parse(JSON.stringify(value)) as JsonValue);
      } catch (error) {
        if (options.rawErrors) throw error;
        throw new StateError(`cannot store "${key}"`, { cause: error });
      }
      if (options.nonAtomicPut) {
        map.delete(key);
        await new Promise((resolve) => setImmediate(resolve));
      }
      map.set(key, stored);
    },
    async delete(key) {
      map.delete(key);
    },
    async list(prefix = '') {
      return [...map.keys()].filter((k) => options.listIgnoresPrefix || k.startsWith(prefix)).sort();
    },
    async lock(key) {
      const mode = options.lock ?? 'ok';
      while (mode === 'waits' && locks.has(key)) await new Promise((resolve) => setTimeout(resolve, 10));
      if (locks.has(key)) {
        if (mode === 'raw') throw new Error(`locked: ${key}`);
        if (mode !== 'shared') throw new StateLockedError(key, 'toy');
      }
      const token = Symbol(key);
      locks.set(key, token);
      return async () => {
        if (mode !== 'sticky' && locks.get(key) === token) locks.delete(key);
      };
    },
  };
}

/** A store whose server is down. */
export function downStore(fail: () => Error): StateStore {
  const go = async (): Promise<never> => {
    throw fail();
  };
  return { durable: true, get: go, put: go, delete: go, list: go };
}

export { createMemoryStateStore, refused };
