/**
 * The battery on @faucet/core's own state stores. It lives here, not in packages/core, because core
 * cannot depend on the testkit (which depends on core).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileStateStore, createMemoryStateStore, fileStateStore, memoryStateStore } from '@faucet/core';
import { testStateStore } from '@faucet/testkit';
import { afterAll } from 'vitest';

testStateStore({
  name: 'memory',
  descriptor: memoryStateStore,
  config: { valid: {}, invalid: { value: { surprise: true }, path: '' } },
  create: createMemoryStateStore,
});

const dir = mkdtempSync(join(tmpdir(), 'faucet-testkit-file-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

testStateStore({
  name: 'file',
  descriptor: fileStateStore,
  config: { valid: { path: dir }, invalid: { value: { path: 42 }, path: 'path' } },
  create: () => createFileStateStore({ path: dir }),
  capabilities: { reopen: () => createFileStateStore({ path: dir }) },
});
