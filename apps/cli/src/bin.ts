#!/usr/bin/env node
import { main } from './cli.js';
import { boundHeapGrowth } from './heap-policy.js';

boundHeapGrowth();
const code = await main(process.argv);
// Exit explicitly: a connector that left a socket or timer open must not keep a finished run alive.
process.stdout.write('', () => {
  process.stderr.write('', () => process.exit(code));
});
