#!/usr/bin/env node
import module from 'node:module';
import { boundHeapGrowth } from './heap-policy.js';
import { capYoungGeneration } from './young-generation.js';

// For commands that move records (peak RSS; see young-generation.ts): Node 24+ re-executes in place
// with Node 20's young-generation limit; Node 20 and 22 stop the young generation's growth at 8 MiB
// semi-spaces. Returns at once for the other commands.
capYoungGeneration();
// Node 22.1+ keeps compiled code on disk between runs (a faster start); older Nodes lack the call.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
// Imported after the cache is on, so the CLI's own modules use it too.
const { main } = await import('./cli.js');

boundHeapGrowth();
const code = await main(process.argv);
// Exit explicitly: a connector that left a socket or timer open must not keep a finished run alive.
process.stdout.write('', () => {
  process.stderr.write('', () => process.exit(code));
});
