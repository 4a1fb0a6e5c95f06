/**
 * The sink against the strict node (`scripts/services.sh start elasticsearch_strict`, started here
 * and stopped afterwards): security on with a file-realm user, no index auto-creation, and a write
 * thread pool of one thread with a queue of one, so a `_bulk` into an index of eight shards has items
 * refused with 429 es_rejected_execution_exception.
 *
 * Runs when the shared node's variable is set (the services are there); fails without it in CI.
 */
import { randomBytes } from 'node:crypto';
import { type FaucetRecord, isFaucetError, runPipeline, silentLogger } from '@faucet/core';
import { createElasticsearchSink, type ElasticsearchSinkConfigInput } from '@faucet/sink-elasticsearch';
import {
  countDocs,
  ELASTICSEARCH_SERVICE,
  esRequest,
  type StrictNode,
  searchAll,
  startStrictNode,
  stopStrictNode,
} from '@faucet/test-support';
import { captureLogger, describeWithService, memorySink, memorySource } from '@faucet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Index names of this run (the node is fresh on each start; a reused one must not collide). */
const run = randomBytes(3).toString('hex');
const named = (name: string): string => `${name}-${run}`;

const writeContext = () => ({ signal: new AbortController().signal, logger: silentLogger });

const errorOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

describeWithService(ELASTICSEARCH_SERVICE, 'with the strict Elasticsearch node', () => {
  let node: StrictNode | undefined;
  const sinks: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    node = await startStrictNode();
  }, 300_000);
  afterAll(async () => {
    for (const sink of sinks) await sink.close();
    await stopStrictNode();
  }, 120_000);

  const strict = (): StrictNode => {
    if (!node) throw new Error('the strict node did not start');
    return node;
  };
  const auth = () => ({
    type: 'basic' as const,
    username: strict().auth.user,
    password: strict().auth.password,
  });
  const sink = (config: Omit<ElasticsearchSinkConfigInput, 'base_url'>, logger = silentLogger) => {
    const made = createElasticsearchSink({ base_url: strict().url, auth: auth(), ...config }, { logger });
    sinks.push(made);
    return made;
  };
  const createIndex = async (index: string, shards: number, mappings?: object) => {
    const created = await esRequest(
      strict().url,
      'PUT',
      `/${index}`,
      { settings: { number_of_shards: shards, number_of_replicas: 0 }, ...(mappings ? { mappings } : {}) },
      strict().auth,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(200);
  };

  describe('bulk back-pressure', () => {
    for (const mode of ['append', 'upsert'] as const) {
      it(`${mode}: documents refused with 429 are sent again until every one is indexed, none dead-lettered`, async () => {
        const index = named(`faucet-bp-${mode}`);
        await createIndex(index, 8);
        const { logger, lines } = captureLogger();
        const dlq = memorySink();
        const result = await runPipeline({
          source: memorySource({ count: 2000, record: (i) => ({ id: i + 1, name: `doc ${i + 1}` }) }),
          sink: sink(
            {
              index,
              ...(mode === 'upsert' ? { write_mode: 'upsert', key: ['id'] } : {}),
              batch_size: 1000,
              concurrency: 2,
              retry: { base_delay_ms: 20, max_delay_ms: 250, max_attempts: 400 },
            },
            logger,
          ),
          dlq: { sink: dlq },
          batchSize: 1000,
          logger,
        });
        expect(result.status, String(result.error)).toBe('ok');
        expect(result.recordsDeadLettered).toBe(0);
        expect(dlq.storage.rows).toHaveLength(0);
        // Exactly 2000: a generated-id append sent again only the refused items, never a duplicate.
        expect(await countDocs(strict().url, index, strict().auth)).toBe(2000);
        const refused = lines.filter((line) => line.msg.includes('HTTP 429 es_rejected_execution_exception'));
        expect(
          refused.length,
          'the node refused documents with 429 (the test needs back-pressure)',
        ).toBeGreaterThan(0);
        expect(refused[0]?.msg).toContain('sending them again');
      }, 300_000);
    }
  });

  describe('bad input', () => {
    it('a wrong password fails check() and write() with AUTH_FAILED naming the node, never the password', async () => {
      const password = 'Wrong-Secret-Pw-1234';
      const s = createElasticsearchSink({
        base_url: strict().url,
        index: named('faucet-auth'),
        auth: { type: 'basic', username: strict().auth.user, password },
      });
      sinks.push(s);
      for (const attempt of [() => s.check(), () => s.write([{ a: 1 }], writeContext())]) {
        const error = await errorOf(attempt());
        expect(isFaucetError(error) && error.code).toBe('AUTH_FAILED');
        const text = `${(error as Error).message}\n${(error as Error).stack}`;
        expect(text).toContain(
          `elasticsearch sink (127.0.0.1:${new URL(strict().url).port}): authentication failed`,
        );
        expect(text).not.toContain(password);
      }
    });

    it('a missing index with auto-create disabled is a clear error from check() and write(); nothing is written', async () => {
      const index = named('faucet-missing');
      const s = sink({ index });
      const expected = `index "${index}" does not exist and the cluster does not create indices automatically`;
      const checked = await errorOf(s.check());
      expect((checked as Error).message).toContain(expected);
      const written = await errorOf(s.write([{ a: 1 }, { a: 2 }], writeContext()));
      expect(isFaucetError(written) && written.code).toBe('SINK_WRITE_FAILED');
      expect((written as Error).message).toContain(expected);
      expect((await esRequest(strict().url, 'GET', `/${index}`, undefined, strict().auth)).status).toBe(404);
    });

    it('with create_index the sink makes the index itself, and effectively-once makes its token index', async () => {
      const index = named('faucet-made');
      const tokens = named('faucet-made-tokens');
      const s = sink({
        index,
        commit_token_index: tokens,
        create_index: { settings: { number_of_replicas: 0 } },
      });
      await s.check();
      await s.writeIdempotent?.(
        [{ a: 1 }],
        { scope: 'k', token: 'faucet1:0000000000000001.0000000000#{}' },
        writeContext(),
      );
      expect(await countDocs(strict().url, index, strict().auth)).toBe(1);
      expect(await s.lastCommittedToken?.('k')).toBe('faucet1:0000000000000001.0000000000#{}');
    });
  });

  it('an ingest pipeline runs on every document (set_security_user: the one processor this build has)', async () => {
    const index = named('faucet-piped');
    const pipeline = named('faucet-user');
    await createIndex(index, 1);
    const put = await esRequest(
      strict().url,
      'PUT',
      `/_ingest/pipeline/${pipeline}`,
      { processors: [{ set_security_user: { field: 'written_by', properties: ['username'] } }] },
      strict().auth,
    );
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const result = await sink({ index, pipeline }).write([{ n: 1 }, { n: 2 }], writeContext());
    expect(result?.failed ?? []).toEqual([]);
    const docs = (await searchAll(strict().url, index, strict().auth)) as FaucetRecord[];
    expect(docs).toHaveLength(2);
    for (const doc of docs) expect(doc.written_by).toEqual({ username: strict().auth.user });
  });
});
