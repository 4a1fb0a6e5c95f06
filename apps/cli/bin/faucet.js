#!/usr/bin/env node
// The `faucet` command. A source file, not a build output, so that pnpm and npm link the command at
// install time, before the first build; the CLI itself is dist/bin.js.
const entry = new URL('../dist/bin.js', import.meta.url);
try {
  await import(entry.href);
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(entry.pathname)) {
    console.error('faucet: the CLI is not built yet; run `pnpm build` in the repository first');
    process.exit(1);
  }
  throw error;
}
