/**
 * The sink against the shared Elasticsearch node (FAUCET_TEST_ELASTICSEARCH_URL): every write mode,
 * ids, index templates, byte-bounded requests, per-item failures, refresh, routing, ingest pipelines,
 * effectively-once tokens and check(). Each test works in indices of this file's own.
 */
import { Client } from '@elastic/elasticsearch';
import { type FaucetRecord, isFaucetError, silentLogger } from '@faucet/core';
import { createElasticsearchSink, type ElasticsearchSinkConfigInput } from '@faucet/sink-elasticsearch';
import { countDocs, esRequest, searchAll, useIndices, withElasticsearch } from '@faucet/test-support';
import { afterAll, describe, expect, it } from 'vitest';

const writeContext = () => ({ signal: new AbortController().signal, logger: silentLogger });

const failureText = (failure: { error: Error | string }): string =>
  failure.error instanceof Error ? failure.error.message : failure.error;

withElasticsearch('with Elasticsearch', (url) => {
  const indices = useIndices(url, 'sink');
  const sinks: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const sink of sinks) await sink.close();
  });

  const sink = (config: Omit<ElasticsearchSinkConfigInput, 'base_url'>, client?: Client) => {
    const made = createElasticsearchSink({ base_url: url, ...config }, client ? { client } : {});
    sinks.push(made);
    return made;
  };

  const createIndex = async (index: string, body: Record<string, unknown> = {}) => {
    const settings = { number_of_shards: 1, number_of_replicas: 0, ...(body.settings as object) };
    const created = await esRequest(url, 'PUT', `/${index}`, { ...body, settings });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
  };

  const getDoc = async (index: string, id: string, routing?: string) => {
    const query = routing ? `?routing=${encodeURIComponent(routing)}` : '';
    return esRequest(url, 'GET', `/${index}/_doc/${encodeURIComponent(id)}${query}`);
  };

  describe('write modes', () => {
    it('append creates documents with generated ids, every one of them', async () => {
      const index = indices.name('append');
      const s = sink({ index });
      const records = Array.from({ length: 250 }, (_, i) => ({ n: i, name: `r${i}` }));
      const result = await s.write(records, writeContext());
      expect(result?.failed ?? []).toEqual([]);
      const docs = await searchAll(url, index);
      expect(docs.map((d) => d.n).sort((a, b) => Number(a) - Number(b))).toEqual(records.map((r) => r.n));
    });

    it('index replaces documents by key: a single key is the _id verbatim, the last write of a batch wins', async () => {
      const index = indices.name('index');
      const s = sink({ index, write_mode: 'index', key: ['code'] });
      await s.write(
        [
          { code: 'a/1', v: 1, extra: 'x' },
          { code: 'b', v: 1 },
          { code: 'a/1', v: 2 },
        ],
        writeContext(),
      );
      await s.write([{ code: 'b', v: 3 }], writeContext());
      expect((await getDoc(index, 'a/1')).body._source).toEqual({ code: 'a/1', v: 2 });
      expect((await getDoc(index, 'b')).body._source).toEqual({ code: 'b', v: 3 });
      expect(await countDocs(url, index)).toBe(2);
    });

    it('a composite key makes the canonical JSON array of its values; numbers stay numbers', async () => {
      const index = indices.name('composite');
      const s = sink({ index, write_mode: 'index', key: ['region', 'id'] });
      await s.write([{ region: 'eu', id: 42, v: 1 }], writeContext());
      const doc = await getDoc(index, '["eu",42]');
      expect(doc.status).toBe(200);
      expect(doc.body._source).toEqual({ region: 'eu', id: 42, v: 1 });
    });

    it('upsert merges into the stored document (doc_as_upsert) and creates missing ones', async () => {
      const index = indices.name('upsert');
      const s = sink({ index, write_mode: 'upsert', key: ['id'] });
      await s.write([{ id: 1, name: 'one', color: 'red' }], writeContext());
      await s.write(
        [
          { id: 1, color: 'blue' },
          { id: 2, name: 'two' },
        ],
        writeContext(),
      );
      expect((await getDoc(index, '1')).body._source).toEqual({ id: 1, name: 'one', color: 'blue' });
      expect((await getDoc(index, '2')).body._source).toEqual({ id: 2, name: 'two' });
    });

    it('delete removes documents by key, and deleting one that is not there is success', async () => {
      const index = indices.name('delete');
      await sink({ index, write_mode: 'index', key: ['id'] }).write([{ id: 1 }, { id: 2 }], writeContext());
      const result = await sink({ index, write_mode: 'delete', key: ['id'] }).write(
        [{ id: 1 }, { id: 99 }],
        writeContext(),
      );
      expect(result?.failed ?? []).toEqual([]);
      expect((await getDoc(index, '1')).status).toBe(404);
      expect((await getDoc(index, '2')).status).toBe(200);
    });

    it('a delete marker deletes in upsert mode; the other records are upserted', async () => {
      const index = indices.name('marker');
      const s = sink({
        index,
        write_mode: 'upsert',
        key: ['id'],
        delete_marker: { field: 'op', values: ['d'] },
      });
      await s.write(
        [
          { id: 1, op: 'u' },
          { id: 2, op: 'u' },
        ],
        writeContext(),
      );
      const result = await s.write(
        [
          { id: 1, op: 'd' },
          { id: 3, op: 'u' },
          { id: 4, op: 'd' },
        ],
        writeContext(),
      );
      expect(result?.failed ?? []).toEqual([]);
      expect((await getDoc(index, '1')).status).toBe(404);
      expect((await getDoc(index, '2')).status).toBe(200);
      expect((await getDoc(index, '3')).status).toBe(200);
    });

    it('a record without its key is a per-row failure naming the field; the others are written', async () => {
      const index = indices.name('nokey');
      const result = await sink({ index, write_mode: 'index', key: ['id'] }).write(
        [{ id: 1 }, { name: 'no id' }, { id: null }, { id: 2 }],
        writeContext(),
      );
      expect(result?.failed?.map((f) => f.index)).toEqual([1, 2]);
      expect(failureText(result?.failed?.[0] as { error: Error })).toContain(
        'key field "id" is missing or null',
      );
      expect(await countDocs(url, index)).toBe(2);
    });
  });

  describe('index names', () => {
    it('a template puts each record in the index its fields name; a record lacking them is a per-row failure', async () => {
      const prefix = indices.name('monthly');
      const s = sink({
        index: `${prefix}-{region}-{date:created_at:yyyy.MM}`,
        write_mode: 'index',
        key: ['id'],
      });
      const result = await s.write(
        [
          { id: 1, region: 'eu', created_at: '2024-01-31T23:59:59Z' },
          { id: 2, region: 'eu', created_at: '2024-02-01T00:00:00Z' },
          { id: 3, region: 'us', created_at: Date.UTC(2024, 1, 15) },
          { id: 4, region: 'us' },
          { id: 5, region: 'US', created_at: '2024-02-01T00:00:00Z' },
        ],
        writeContext(),
      );
      expect(result?.failed?.map((f) => f.index)).toEqual([3, 4]);
      expect(failureText(result?.failed?.[0] as { error: Error })).toContain(
        'field "created_at" is not a date',
      );
      expect(failureText(result?.failed?.[1] as { error: Error })).toContain('upper-case');
      expect((await getDoc(`${prefix}-eu-2024.01`, '1')).status).toBe(200);
      expect((await getDoc(`${prefix}-eu-2024.02`, '2')).status).toBe(200);
      expect((await getDoc(`${prefix}-us-2024.02`, '3')).status).toBe(200);
    });

    it('create_index makes a fixed index with its settings and mappings, once', async () => {
      const index = indices.name('created');
      const s = sink({
        index,
        create_index: {
          settings: { number_of_shards: 2, number_of_replicas: 0 },
          mappings: { properties: { amount: { type: 'long' } } },
        },
      });
      await s.write([{ amount: 1 }], writeContext());
      await s.write([{ amount: 2 }], writeContext());
      const mapping = await esRequest(url, 'GET', `/${index}/_mapping`);
      expect(mapping.body[index].mappings.properties.amount.type).toBe('long');
      const settings = await esRequest(url, 'GET', `/${index}/_settings`);
      expect(settings.body[index].settings.index.number_of_shards).toBe('2');
      expect(await countDocs(url, index)).toBe(2);
    });

    it('create_index with a templated index puts an index template every produced index follows', async () => {
      const prefix = indices.name('tmpl');
      const templateName = `${prefix}-template`;
      const s = sink({
        index: `${prefix}-{date:at:yyyy}`,
        create_index: {
          template_name: templateName,
          settings: { number_of_replicas: 0 },
          mappings: { properties: { code: { type: 'keyword' } } },
        },
      });
      try {
        await s.write([{ at: '2023-05-01T00:00:00Z', code: '007' }], writeContext());
        const mapping = await esRequest(url, 'GET', `/${prefix}-2023/_mapping`);
        expect(mapping.body[`${prefix}-2023`].mappings.properties.code.type).toBe('keyword');
      } finally {
        await esRequest(url, 'DELETE', `/_index_template/${templateName}`);
      }
    });
  });

  describe('requests', () => {
    it('no _bulk body exceeds max_bulk_bytes or batch_size; all documents arrive', async () => {
      const index = indices.name('bytes');
      const client = new Client({ node: url });
      const bodies: { bytes: number; docs: number }[] = [];
      const original = client.transport.request.bind(client.transport);
      client.transport.request = ((params: { bulkBody?: unknown }, options?: unknown) => {
        if (typeof params.bulkBody === 'string') {
          bodies.push({
            bytes: Buffer.byteLength(params.bulkBody),
            docs: params.bulkBody.split('\n').filter(Boolean).length / 2,
          });
        }
        return original(params as never, options as never);
      }) as typeof client.transport.request;
      const s = sink({ index, max_bulk_bytes: 4096, batch_size: 8, concurrency: 3 }, client);
      const records = Array.from({ length: 300 }, (_, i) => ({ n: i, text: 'x'.repeat(200 + (i % 50)) }));
      const result = await s.write(records, writeContext());
      expect(result?.failed ?? []).toEqual([]);
      expect(bodies.length).toBeGreaterThan(300 / 8);
      for (const body of bodies) {
        expect(body.bytes).toBeLessThanOrEqual(4096);
        expect(body.docs).toBeLessThanOrEqual(8);
      }
      expect(bodies.reduce((sum, b) => sum + b.docs, 0)).toBe(300);
      expect(await countDocs(url, index)).toBe(300);
      await client.close();
    });

    it('a document bigger than max_bulk_bytes on its own is a per-row failure', async () => {
      const index = indices.name('big');
      const result = await sink({ index, max_bulk_bytes: 2048 }).write(
        [{ n: 1 }, { n: 2, text: 'y'.repeat(5000) }],
        writeContext(),
      );
      expect(result?.failed?.map((f) => f.index)).toEqual([1]);
      expect(failureText(result?.failed?.[0] as { error: Error })).toContain(
        'more than max_bulk_bytes (2048)',
      );
      expect(await countDocs(url, index)).toBe(1);
    });

    it('mapping violations are per-row failures with the item error type and reason; the rest are indexed', async () => {
      const index = indices.name('mapping');
      await createIndex(index, { mappings: { properties: { amount: { type: 'long' } } } });
      const result = await sink({ index }).write(
        [{ amount: 1 }, { amount: 'lots' }, { amount: 3 }, { amount: { nested: true } }],
        writeContext(),
      );
      expect(result?.failed?.map((f) => f.index)).toEqual([1, 3]);
      for (const failure of result?.failed ?? []) {
        expect(isFaucetError(failure.error) && failure.error.code).toBe('SINK_ROW_REJECTED');
        expect(failureText(failure)).toContain(`index "${index}" rejected the document (HTTP 400`);
        expect(failureText(failure)).toMatch(/(document_parsing_exception|mapper_parsing_exception)/);
      }
      expect(await countDocs(url, index)).toBe(2);
    });

    it('append with a key never overwrites: an existing _id is a per-row version conflict', async () => {
      const index = indices.name('conflict');
      const s = sink({ index, key: ['id'] });
      await s.write([{ id: 1, v: 'first' }], writeContext());
      const result = await s.write(
        [
          { id: 1, v: 'second' },
          { id: 2, v: 'first' },
        ],
        writeContext(),
      );
      expect(result?.failed?.map((f) => f.index)).toEqual([0]);
      expect(failureText(result?.failed?.[0] as { error: Error })).toContain(
        'HTTP 409 version_conflict_engine_exception',
      );
      expect((await getDoc(index, '1')).body._source.v).toBe('first');
    });

    it('refresh: wait_for makes what was written searchable when flush() returns', async () => {
      const index = indices.name('refresh');
      await createIndex(index, { settings: { refresh_interval: -1 } });
      const s = sink({ index, refresh: 'wait_for' });
      await s.write([{ n: 1 }, { n: 2 }], writeContext());
      const before = await esRequest(url, 'GET', `/${index}/_count`);
      expect(before.body.count).toBe(0);
      await s.flush?.();
      const after = await esRequest(url, 'GET', `/${index}/_count`);
      expect(after.body.count).toBe(2);
    });

    it('routing_field routes each document to its shard', async () => {
      const index = indices.name('routed');
      const s = sink({ index, write_mode: 'index', key: ['id'], routing_field: 'tenant' });
      const result = await s.write(
        [
          { id: 1, tenant: 'acme' },
          { id: 2, tenant: 'globex' },
        ],
        writeContext(),
      );
      expect(result?.failed ?? []).toEqual([]);
      const doc = await getDoc(index, '1', 'acme');
      expect(doc.body._routing).toBe('acme');
    });

    it('an ingest pipeline that does not exist fails the write, naming it (no document is a row failure)', async () => {
      const index = indices.name('nopipeline');
      const error = await sink({ index, pipeline: 'faucet-no-such-pipeline' })
        .write([{ n: 1 }], writeContext())
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isFaucetError(error) && error.code).toBe('SINK_WRITE_FAILED');
      expect((error as Error).message).toContain('ingest pipeline "faucet-no-such-pipeline" does not exist');
    });

    it('concurrent requests of one write keep last-write-wins per key', async () => {
      const index = indices.name('order');
      const s = sink({ index, write_mode: 'index', key: ['id'], batch_size: 5, concurrency: 4 });
      const records: FaucetRecord[] = [];
      for (let round = 0; round < 4; round++) for (let id = 0; id < 25; id++) records.push({ id, round });
      await s.write(records, writeContext());
      const docs = await searchAll(url, index);
      expect(docs).toHaveLength(25);
      for (const doc of docs) expect(doc.round).toBe(3);
    });
  });

  describe('effectively-once', () => {
    it('a page written again with its token creates nothing new; the token reads back per scope', async () => {
      const index = indices.name('eo');
      const tokens = indices.name('eo-tokens');
      const s = sink({ index, commit_token_index: tokens });
      expect(await s.lastCommittedToken?.('pipe::row-0')).toBeUndefined();
      const page = Array.from({ length: 40 }, (_, i) => ({ n: i }));
      const commit = { scope: 'pipe::row-0', token: 'faucet1:0000000000000001.0000000000#{"b":1}' };
      await s.writeIdempotent?.(page, commit, writeContext());
      await s.writeIdempotent?.(page, commit, writeContext());
      expect(await countDocs(url, index)).toBe(40);
      const next = { scope: 'pipe::row-0', token: 'faucet1:0000000000000002.0000000000#{"b":2}' };
      await s.writeIdempotent?.(page, next, writeContext());
      expect(await countDocs(url, index)).toBe(80);
      const fresh = sink({ index, commit_token_index: tokens });
      expect(await fresh.lastCommittedToken?.('pipe::row-0')).toBe(next.token);
      expect(await fresh.lastCommittedToken?.('other::row-0')).toBeUndefined();
    });

    it('an empty checkpoint page moves only the token', async () => {
      const index = indices.name('eo-empty');
      const tokens = indices.name('eo-empty-tokens');
      const s = sink({ index, commit_token_index: tokens });
      await s.writeIdempotent?.(
        [],
        { scope: 'k', token: 'faucet1:0000000000000003.0000000000#{}' },
        writeContext(),
      );
      expect(await s.lastCommittedToken?.('k')).toBe('faucet1:0000000000000003.0000000000#{}');
      expect(await countDocs(url, index)).toBe(0);
    });
  });

  describe('check()', () => {
    it('passes for a writable index, a missing one the cluster creates, and a templated name', async () => {
      const index = indices.name('checked');
      await createIndex(index);
      await sink({ index }).check();
      await sink({ index: indices.name('not-yet') }).check();
      await sink({ index: `${indices.prefix}-{date:at:yyyy}` }).check();
    });

    it('names an index that has a write block, and an ingest pipeline that does not exist', async () => {
      const index = indices.name('blocked');
      await createIndex(index, { settings: { 'index.blocks.write': true } });
      await expect(sink({ index }).check()).rejects.toThrow(
        `index "${index}" does not accept writes: ${index} (index.blocks.write)`,
      );
      await esRequest(url, 'PUT', `/${index}/_settings`, { 'index.blocks.write': false });
      await expect(sink({ index, pipeline: 'faucet-no-such-pipeline' }).check()).rejects.toThrow(
        'ingest pipeline "faucet-no-such-pipeline" does not exist',
      );
    });

    it('an unreachable node fails check() and write() with a ConnectionError naming host:port', async () => {
      const s = createElasticsearchSink(
        { base_url: 'http://127.0.0.1:1', index: 'x', auth: { type: 'bearer', token: 'tok-Secret-99' } },
        { logger: silentLogger },
      );
      sinks.push(s);
      for (const attempt of [() => s.check(), () => s.write([{ a: 1 }], writeContext())]) {
        const error = await attempt().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isFaucetError(error) && error.code).toBe('CONNECTION_FAILED');
        expect((error as Error).message).toContain('elasticsearch sink (127.0.0.1:1): cannot reach the node');
        expect((error as Error).message).not.toContain('tok-Secret-99');
      }
    });
  });
});
