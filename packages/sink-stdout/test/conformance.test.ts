import { PassThrough } from 'node:stream';
import type { FaucetRecord } from '@faucet/core';
import stdoutSink, { createStdoutSink, stdoutSinkConfigSchema } from '@faucet/sink-stdout';
import { testSink } from '@faucet/testkit';

// The sink prints to an injected stream standing in for stdout; what reached it is what was printed.
const stream = new PassThrough();
stream.setMaxListeners(0); // every sink instance (a "restart") listens for errors on the same stream
let printed = '';
stream.on('data', (chunk: Buffer) => {
  printed += chunk.toString('utf8');
});

testSink({
  name: 'stdout',
  descriptor: stdoutSink,
  config: {
    valid: { format: 'jsonl', destination: 'stdout' },
    invalid: { value: { format: 'yaml' }, path: 'format' },
  },
  create: () => createStdoutSink(stdoutSinkConfigSchema.parse({}), { stream }),
  reset: () => {
    printed = '';
  },
  capabilities: {
    read: () =>
      printed
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as FaucetRecord),
  },
});
