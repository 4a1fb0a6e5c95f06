import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { FaucetRecord } from '@faucet/core';
import fileSink from '@faucet/sink-file';
import { instantiate, testSink } from '@faucet/testkit';
import { afterAll } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'faucet-sink-file-conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the file durably holds, decoded line by line; nothing when it does not exist. */
async function readJsonl(path: string, gzip = false): Promise<FaucetRecord[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return [];
  }
  const text = (gzip ? gunzipSync(bytes) : bytes).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as FaucetRecord);
}

const plain = join(dir, 'out', 'records.jsonl');
testSink({
  name: 'file (jsonl, append)',
  descriptor: fileSink,
  config: {
    valid: { path: 'out/records.jsonl', mode: 'append' },
    invalid: { value: { path: 'out/records.jsonl', mode: 'truncate' }, path: 'mode' },
  },
  create: () => instantiate(fileSink, { path: plain }),
  reset: () => rm(plain, { force: true }),
  capabilities: { read: () => readJsonl(plain) },
});

const gzipped = join(dir, 'out', 'records.jsonl.gz');
testSink({
  name: 'file (jsonl.gz, append)',
  create: () => instantiate(fileSink, { path: gzipped }),
  reset: () => rm(gzipped, { force: true }),
  capabilities: { read: () => readJsonl(gzipped, true) },
});
