/**
 * The @faucet/testkit battery against a real Elasticsearch node, three ways: append with generated
 * ids (at-least-once; effectively-once with ids derived from the commit token), index by key, and
 * upsert by key. reset() recreates the index with an explicit mapping (so a string in `amount` is a
 * per-row failure) and forgets the commit tokens; read() refreshes and searches.
 */
import type { FaucetRecord } from '@faucet/core';
import elasticsearchSink from '@faucet/sink-elasticsearch';
import { esRequest, searchAll, useIndices, withElasticsearch } from '@faucet/test-support';
import { instantiate, testSink } from '@faucet/testkit';

const password = 'pw-Secret-4711';
const closedPort = {
  base_url: 'http://127.0.0.1:1',
  index: 'items',
  auth: { type: 'basic', username: 'faucet', password },
  request_timeout_ms: 5000,
};
const descriptorConfig = {
  valid: closedPort,
  invalid: { value: { ...closedPort, write_mode: 'upsert' }, path: 'key' },
};

const MAPPINGS = {
  properties: {
    id: { type: 'long' },
    name: { type: 'keyword' },
    amount: { type: 'double' },
    active: { type: 'boolean' },
    created_at: { type: 'date' },
    tags: { type: 'keyword' },
    note: { type: 'keyword' },
  },
};

withElasticsearch('with Elasticsearch', (url) => {
  const indices = useIndices(url, 'conf');
  const variants = [
    { name: 'elasticsearch (append)', suffix: 'append', config: {} },
    { name: 'elasticsearch (index by key)', suffix: 'index', config: { write_mode: 'index', key: ['id'] } },
    {
      name: 'elasticsearch (upsert by key)',
      suffix: 'upsert',
      config: { write_mode: 'upsert', key: ['id'] },
    },
  ] as const;

  for (const variant of variants) {
    const index = indices.name(variant.suffix);
    const tokens = indices.name(`${variant.suffix}-tokens`);
    const keyed = 'write_mode' in variant.config;
    const config = { base_url: url, index, commit_token_index: tokens, ...variant.config };
    testSink({
      name: variant.name,
      descriptor: elasticsearchSink,
      config: descriptorConfig,
      create: () => instantiate(elasticsearchSink, config),
      reset: async () => {
        await esRequest(url, 'DELETE', `/${index},${tokens}?ignore_unavailable=true`);
        const created = await esRequest(url, 'PUT', `/${index}`, {
          settings: { number_of_shards: 1, number_of_replicas: 0 },
          mappings: MAPPINGS,
        });
        if (created.status !== 200) throw new Error(`creating ${index}: ${JSON.stringify(created.body)}`);
      },
      capabilities: {
        read: async () => (await searchAll(url, index)) as FaucetRecord[],
        ...(keyed ? { keyed: true } : {}),
        effectivelyOnce: true,
        rowFailures: {
          badRecord: (i: number) => ({ id: 10_000 + i, name: 'bad', amount: 'not a number' }),
        },
        unreachable: {
          create: () => instantiate(elasticsearchSink, closedPort),
          host: '127.0.0.1',
          port: 1,
          password,
        },
        secrets: { config: closedPort, secretValue: password },
      },
    });
  }
});
