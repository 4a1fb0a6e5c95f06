/**
 * The @faucet/testkit battery against a local HTTP server: an incremental read over page-number
 * pagination (bookmark on the final page), with the server counting the records it has handed out.
 */
import type { FaucetRecord } from '@faucet/core';
import restSource from '@faucet/source-rest';
import { instantiate, testSource } from '@faucet/testkit';
import { afterAll, beforeAll } from 'vitest';
import { json, startServer, type TestServer } from './helpers.js';

let server: TestServer;
let data: FaucetRecord[] = [];
const PAGE = 10;
const password = 'pw-Secret-4711';

beforeAll(async () => {
  server = await startServer((req, res, state) => {
    const page = Number(req.url.searchParams.get('page'));
    const rows = data.slice((page - 1) * PAGE, page * PAGE);
    state.served += rows.length;
    json(res, { data: rows });
  });
});
afterAll(async () => {
  await server.close();
});

const closedPort = {
  base_url: 'http://127.0.0.1:1',
  path: '/items',
  auth: { type: 'bearer' as const, token: password },
  max_retries: 0,
};

const config = () => ({
  base_url: server.url,
  path: '/items',
  records_path: '$.data',
  pagination: { type: 'page_number' as const, page_size: PAGE },
  replication_method: { type: 'Incremental' as const, cursor_field: 'created_at' },
  max_pages: 1000,
});

testSource({
  name: 'rest',
  descriptor: restSource,
  config: {
    valid: { base_url: 'http://127.0.0.1:1', path: '/items' },
    invalid: { value: { base_url: 'not a url' }, path: 'base_url' },
  },
  seed: (records) => {
    data = [...records];
  },
  create: () => instantiate(restSource, config()),
  capabilities: {
    bookmarks: 'final-page',
    streaming: { served: () => server.served },
    unreachable: { create: () => instantiate(restSource, closedPort), host: '127.0.0.1', port: 1, password },
    secrets: { config: closedPort, secretValue: password },
  },
});
