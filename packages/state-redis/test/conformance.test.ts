import { randomBytes } from 'node:crypto';
import redisStateStore from '@faucet/state-redis';
import { instantiate, testStateStore } from '@faucet/testkit';
import { afterAll } from 'vitest';
import { describeWithRedis, dropNamespace } from './redis-env.js';

describeWithRedis('state-redis on a real Redis', (url) => {
  // A namespace of its own, so runs never see each other's keys.
  const namespace = `conformance-${randomBytes(4).toString('hex')}`;
  const config = { connection_url: url, namespace };
  const unreachable = { connection_url: 'redis://:unreachable-pw-7f3a@127.0.0.1:1/0' };

  afterAll(() => dropNamespace(url, namespace));

  testStateStore({
    name: 'redis',
    descriptor: redisStateStore,
    config: { valid: config, invalid: { value: { ...config, namespace: 'has space' }, path: 'namespace' } },
    create: () => instantiate(redisStateStore, config),
    capabilities: {
      reopen: () => instantiate(redisStateStore, config),
      unreachable: {
        create: () => instantiate(redisStateStore, unreachable),
        host: '127.0.0.1',
        port: 1,
        password: 'unreachable-pw-7f3a',
      },
      secrets: {
        config: { connection_url: 'redis://:secret-pw-91c2@127.0.0.1:1/0' },
        secretValue: 'secret-pw-91c2',
      },
    },
  });
});
