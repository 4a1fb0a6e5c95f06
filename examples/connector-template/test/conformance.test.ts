import { instantiate, testSource } from '@faucet/testkit';
import exampleSource from 'faucet-source-example';
import { afterAll } from 'vitest';
import { startRecordsServer } from './records-server.js';

const token = 'example-token-c0ffee';
const closedPort = { url: 'http://127.0.0.1:1/records', token };
const server = await startRecordsServer({ token });
afterAll(() => server.close());

testSource({
  name: 'example',
  descriptor: exampleSource,
  config: { valid: closedPort, invalid: { value: { ...closedPort, url: 'not a url' }, path: 'url' } },
  seed: (records) => server.load(records),
  create: () => instantiate(exampleSource, { url: server.url, token }),
  capabilities: {
    bookmarks: 'every-page',
    streaming: { served: () => server.served },
    unreachable: {
      create: () => instantiate(exampleSource, closedPort),
      host: '127.0.0.1',
      port: 1,
      password: token,
    },
    secrets: { config: closedPort, secretValue: token },
  },
});
