/**
 * The parts that need no node: config validation, index-name templates, document ids, request
 * splitting, the auto-create rule, and how `_bulk` answers are judged (through an injected client
 * whose transport answers what each case needs).
 */
import { type Client, errors } from '@elastic/elasticsearch';
import { type FaucetRecord, isFaucetError, silentLogger } from '@faucet/core';
import { createElasticsearchSink, elasticsearchSinkConfigSchema } from '@faucet/sink-elasticsearch';
import { describe, expect, it } from 'vitest';
import { chunkItems } from '../src/bulk.js';
import { keyId, pageIdPrefix } from '../src/document-id.js';
import { indexPattern, parseIndexName, resolveIndexName } from '../src/index-name.js';
import { type BulkItem, prepareOperations } from '../src/operations.js';
import { autoCreateAllows } from '../src/setup.js';

const ctx = () => ({ signal: new AbortController().signal, logger: silentLogger });
const base = { base_url: 'http://127.0.0.1:9200', index: 'items' };

describe('config', () => {
  const issues = (input: unknown) => {
    const result = elasticsearchSinkConfigSchema.safeParse(input);
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('defaults: append, 1000 documents and 10 MiB per request, no refresh', () => {
    const config = elasticsearchSinkConfigSchema.parse(base);
    expect(config).toMatchObject({
      write_mode: 'append',
      batch_size: 1000,
      max_bulk_bytes: 10 * 1024 * 1024,
      refresh: false,
      auth: { type: 'none' },
      commit_token_index: 'faucet-commit-tokens',
    });
    expect(config.retry.max_attempts).toBe(10);
  });

  it('keyed modes need a key; a delete marker needs index or upsert', () => {
    expect(issues({ ...base, write_mode: 'upsert' })).toEqual([
      'key: write_mode upsert needs the key fields (they make the _id)',
    ]);
    expect(issues({ ...base, delete_marker: { field: 'op' } })[0]).toContain(
      'delete_marker: delete_marker needs',
    );
  });

  it('refuses an index name Elasticsearch would refuse, and a broken template', () => {
    expect(issues({ ...base, index: 'Items' })[0]).toContain('index: "Items" has upper-case letters');
    expect(issues({ ...base, index: 'logs-{date:at:yyyy.QQ}' })[0]).toContain('unknown date token');
    expect(issues({ ...base, index: 'logs-{}' })[0]).toContain('names no field');
    expect(issues({ ...base, base_url: 'ftp://x' })[0]).toContain('expected an http:// or https:// URL');
  });
});

describe('index names', () => {
  it('fills fields and UTC dates; the pattern of a template matches every name', () => {
    const name = parseIndexName('logs-{team}-{date:at:yyyy.MM.dd}');
    expect(resolveIndexName(name, { team: 'core', at: '2024-03-09T23:30:00-02:00' })).toBe(
      'logs-core-2024.03.10',
    );
    expect(resolveIndexName(name, { team: 7, at: 0 })).toBe('logs-7-1970.01.01');
    expect(indexPattern(name)).toBe('logs-*-*');
    expect(() => resolveIndexName(name, { at: 0 })).toThrow('field "team" is missing, null or not a scalar');
    expect(parseIndexName('plain').fixed).toBe('plain');
  });

  it('reads a dotted field as written first, then as a path', () => {
    const name = parseIndexName('t-{a.b}');
    expect(resolveIndexName(name, { 'a.b': 'flat', a: { b: 'nested' } })).toBe('t-flat');
    expect(resolveIndexName(name, { a: { b: 'nested' } })).toBe('t-nested');
  });
});

describe('document ids', () => {
  it('one key verbatim, several as a canonical JSON array', () => {
    expect(keyId({ id: 'a b/c' }, ['id'])).toBe('a b/c');
    expect(keyId({ id: 42 }, ['id'])).toBe('42');
    expect(keyId({ r: 'eu', id: 42 }, ['r', 'id'])).toBe('["eu",42]');
    expect(keyId({ id: { b: 1, a: 2 } }, ['id'])).toBe('{"a":2,"b":1}');
    expect(() => keyId({ id: 'x'.repeat(600) }, ['id'])).toThrow('more than 512 bytes');
  });

  it('effectively-once prefixes depend on scope and token only', () => {
    const a = pageIdPrefix('s', 't1');
    expect(a).toHaveLength(22);
    expect(pageIdPrefix('s', 't1')).toBe(a);
    expect(pageIdPrefix('s', 't2')).not.toBe(a);
    expect(pageIdPrefix('s2', 't1')).not.toBe(a);
  });
});

describe('operations and requests', () => {
  const config = (extra: object) => elasticsearchSinkConfigSchema.parse({ ...base, ...extra });

  it('keyed batches keep the last operation per _id; delete markers turn into deletes', () => {
    const cfg = config({ write_mode: 'upsert', key: ['id'], delete_marker: { field: 'gone' } });
    const { items, failures } = prepareOperations(
      [{ id: 1, v: 'a' }, { id: 2 }, { id: 1, v: 'b' }, { id: 2, gone: true }, { v: 'no key' }],
      { config: cfg, indexName: parseIndexName(cfg.index) },
    );
    expect(failures.map((f) => f.index)).toEqual([4]);
    expect(items.map((i) => [i.index, i.op])).toEqual([
      [2, 'update'],
      [3, 'delete'],
    ]);
    expect(items[0]?.lines).toBe(
      '{"update":{"_id":"1","retry_on_conflict":3}}\n{"doc":{"id":1,"v":"b"},"doc_as_upsert":true}\n',
    );
  });

  it('appends with token-derived ids; a fixed index stays out of the action line', () => {
    const cfg = config({});
    const { items } = prepareOperations([{ a: 1 }, { a: 2 }], {
      config: cfg,
      indexName: parseIndexName(cfg.index),
      pagePrefix: 'P',
    });
    expect(items.map((i) => i.lines.split('\n')[0])).toEqual([
      '{"create":{"_id":"P-0"}}',
      '{"create":{"_id":"P-1"}}',
    ]);
  });

  it('splits into requests bounded by documents and bytes, in order', () => {
    const items = [5, 5, 5, 9, 1, 1].map((bytes, index) => ({ index, bytes }) as BulkItem);
    expect(chunkItems(items, 2, 10).map((c) => c.map((i) => i.index))).toEqual([[0, 1], [2], [3, 4], [5]]);
    expect(chunkItems(items, 10, 100).map((c) => c.length)).toEqual([6]);
  });

  it('action.auto_create_index: booleans and +/- patterns, first match wins', () => {
    expect(autoCreateAllows(undefined, 'x')).toBe(true);
    expect(autoCreateAllows('false', 'x')).toBe(false);
    expect(autoCreateAllows('+logs-*,-*', 'logs-1')).toBe(true);
    expect(autoCreateAllows('+logs-*,-*', 'other')).toBe(false);
    expect(autoCreateAllows('-secret*,+*', 'secret-1')).toBe(false);
    expect(autoCreateAllows('logs-*', 'other')).toBe(false);
  });
});

/** A client whose transport answers each `_bulk` with the next entry of `answers` (or what it returns). */
function fakeClient(answer: (body: string, call: number) => unknown): { client: Client; bodies: string[] } {
  const bodies: string[] = [];
  const client = {
    transport: {
      request: async (params: { bulkBody?: string }) => {
        bodies.push(params.bulkBody ?? '');
        const result = answer(params.bulkBody ?? '', bodies.length);
        if (result instanceof Error) throw result;
        return result;
      },
    },
    close: async () => {},
  } as unknown as Client;
  return { client, bodies };
}

const docsOf = (body: string): FaucetRecord[] =>
  body
    .split('\n')
    .filter((_, i) => i % 2 === 1)
    .filter(Boolean)
    .map((line) => JSON.parse(line) as FaucetRecord);

const responseError = (status: number, type: string) =>
  new errors.ResponseError({
    body: { error: { type, reason: `${type} reason` }, status },
    statusCode: status,
    headers: {},
    warnings: null,
    meta: {} as never,
  });

describe('judging _bulk answers', () => {
  // One request per write here: these cases are about judging answers, not about splitting.
  const fast = { concurrency: 1, retry: { base_delay_ms: 1, max_delay_ms: 2 } };

  it('sends again only the items refused with 429, until they are taken', async () => {
    const { client, bodies } = fakeClient((body, call) => {
      const docs = docsOf(body);
      return {
        errors: true,
        items: docs.map((d) =>
          call === 1 && Number(d.n) % 2 === 0
            ? {
                create: {
                  status: 429,
                  error: { type: 'es_rejected_execution_exception', reason: 'queue full' },
                },
              }
            : { create: { status: 201 } },
        ),
      };
    });
    const sink = createElasticsearchSink({ ...base, ...fast }, { client });
    const result = await sink.write(
      [0, 1, 2, 3].map((n) => ({ n })),
      ctx(),
    );
    expect(result?.failed ?? []).toEqual([]);
    expect(bodies.map((b) => docsOf(b).map((d) => d.n))).toEqual([
      [0, 1, 2, 3],
      [0, 2],
    ]);
  });

  it('fails the write (never dead-letters) when 429s outlast the attempts', async () => {
    const { client } = fakeClient((body) => ({
      errors: true,
      items: docsOf(body).map(() => ({
        create: { status: 429, error: { type: 'es_rejected_execution_exception' } },
      })),
    }));
    const sink = createElasticsearchSink({ ...base, retry: { ...fast.retry, max_attempts: 3 } }, { client });
    const error = await sink.write([{ n: 1 }], ctx()).catch((e: unknown) => e);
    expect(isFaucetError(error) && error.code).toBe('RATE_LIMITED');
    expect((error as Error).message).toContain('1 documents were still refused after 3 attempts');
  });

  it('a whole request refused with 429 is sent again, even for generated-id appends', async () => {
    const { client, bodies } = fakeClient((_body, call) =>
      call === 1 ? responseError(429, 'es_rejected_execution_exception') : { errors: false },
    );
    const result = await createElasticsearchSink({ ...base, ...fast }, { client }).write([{ n: 1 }], ctx());
    expect(result?.failed ?? []).toEqual([]);
    expect(bodies).toHaveLength(2);
  });

  it('a request lost on the way is sent again only when it is idempotent', async () => {
    const lost = () => new errors.ConnectionError('socket hang up');
    const append = fakeClient((_, call) => (call === 1 ? lost() : { errors: false }));
    const error = await createElasticsearchSink({ ...base, ...fast }, { client: append.client })
      .write([{ n: 1 }], ctx())
      .catch((e: unknown) => e);
    expect(isFaucetError(error) && error.code).toBe('CONNECTION_FAILED');
    expect(append.bodies).toHaveLength(1);
    const keyed = fakeClient((_, call) => (call === 1 ? lost() : { errors: false }));
    const result = await createElasticsearchSink(
      { ...base, ...fast, write_mode: 'index', key: ['n'] },
      { client: keyed.client },
    ).write([{ n: 1 }], ctx());
    expect(result?.failed ?? []).toEqual([]);
    expect(keyed.bodies).toHaveLength(2);
  });

  it('400 and 409 items are row failures; 404 on delete is success; a missing index fails the write', async () => {
    const { client } = fakeClient(() => ({
      errors: true,
      items: [
        { index: { status: 201 } },
        { index: { status: 400, error: { type: 'document_parsing_exception', reason: 'bad amount' } } },
        { delete: { status: 404 } },
        { index: { status: 409, error: { type: 'version_conflict_engine_exception', reason: 'exists' } } },
      ],
    }));
    const sink = createElasticsearchSink(
      { ...base, concurrency: 1, write_mode: 'index', key: ['id'], delete_marker: { field: 'del' } },
      { client },
    );
    const result = await sink.write([{ id: 1 }, { id: 2 }, { id: 3, del: true }, { id: 4 }], ctx());
    expect(result?.failed?.map((f) => [f.index, (f.error as Error).message])).toEqual([
      [
        1,
        'elasticsearch sink: index "items" rejected the document (HTTP 400 document_parsing_exception: bad amount)',
      ],
      [
        3,
        'elasticsearch sink: index "items" rejected the document (HTTP 409 version_conflict_engine_exception: exists)',
      ],
    ]);
    const missing = fakeClient(() => ({
      errors: true,
      items: [
        { create: { status: 404, error: { type: 'index_not_found_exception', reason: 'no such index' } } },
      ],
    }));
    const error = await createElasticsearchSink(base, { client: missing.client })
      .write([{ n: 1 }], ctx())
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain(
      'index "items" does not exist and the cluster does not create',
    );
  });

  it('a write is spread over `concurrency` requests, none above batch_size documents', async () => {
    const { client, bodies } = fakeClient(() => ({ errors: false }));
    const write = (config: object, n: number) =>
      createElasticsearchSink({ ...base, ...config }, { client }).write(
        Array.from({ length: n }, (_, i) => ({ i })),
        ctx(),
      );
    await write({ concurrency: 2 }, 1000);
    expect(bodies.map((b) => docsOf(b).length)).toEqual([500, 500]);
    bodies.length = 0;
    await write({ concurrency: 3, batch_size: 100 }, 450);
    expect(bodies.map((b) => docsOf(b).length)).toEqual([100, 100, 100, 100, 50]);
  });

  it('effectively-once appends take a 409 on create as already written', async () => {
    const { client } = fakeClient((body) =>
      body.includes('"create"')
        ? {
            errors: true,
            items: docsOf(body).map(() => ({
              create: { status: 409, error: { type: 'version_conflict_engine_exception' } },
            })),
          }
        : { errors: false },
    );
    const tokenCalls: string[] = [];
    Object.assign(client, {
      indices: { exists: async () => true },
      index: async (params: { id: string }) => {
        tokenCalls.push(params.id);
        return {};
      },
    });
    const result = await createElasticsearchSink(base, { client }).writeIdempotent?.(
      [{ n: 1 }, { n: 2 }],
      { scope: 'p::row-0', token: 't' },
      ctx(),
    );
    expect(result?.failed ?? []).toEqual([]);
    expect(tokenCalls).toEqual(['p::row-0']);
  });
});
