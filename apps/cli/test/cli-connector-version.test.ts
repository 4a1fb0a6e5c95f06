/**
 * A connector's version comes from its package.json (`connectorPackage(import.meta.url)`), and a run
 * stores it in the state envelope: `faucet state get` after a fresh run shows it, through the real CLI.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  cleanupTempDirs,
  linkRuntime,
  REPO_DIR,
  runCli,
  tempDir,
  write,
  writeCsv,
  writePackage,
} from './helpers.js';

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

interface Envelope {
  v: number;
  source: { type: string; version: string };
}

const versionOf = (dir: string) =>
  (JSON.parse(readFileSync(join(REPO_DIR, dir, 'package.json'), 'utf8')) as { version: string }).version;

describe('the state envelope records the source package version', () => {
  it('@faucet/source-file: the version in its package.json', async () => {
    const dir = tempDir();
    writeCsv(join(dir, 'in.csv'), 1, 5);
    write(
      join(dir, 'pipeline.yaml'),
      `version: 1
name: versioned
pipeline:
  source: { type: file, config: { path: ./in.csv, format: csv } }
  sink: { type: file, config: { path: ./out.jsonl, format: jsonl } }
  state: { type: file, config: { path: ./state } }
`,
    );
    const run = await runCli(['run', 'pipeline.yaml', '-q'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const get = await runCli(['state', 'get', 'versioned::row-0', '-c', 'pipeline.yaml', '-o', 'json'], {
      cwd: dir,
    });
    expect(get.code, get.stderr).toBe(0);
    const envelope = JSON.parse(get.stdout) as Envelope;
    expect(envelope.source).toEqual({ type: 'file', version: versionOf('packages/source-file') });
  });

  it('a third-party source: whatever version its package.json says, with no constant in its code', async () => {
    const dir = tempDir();
    const nodeModules = join(dir, 'node_modules');
    linkRuntime(nodeModules);
    writePackage(nodeModules, {
      name: 'faucet-source-versioned',
      version: '7.8.9-rc.1',
      faucet: { apiVersion: 1, kind: 'source', id: 'versioned' },
      code: `
import { connectorPackage, defineSource } from '@faucet/core';
import { z } from 'zod';
export default defineSource({
  ...connectorPackage(import.meta.url),
  configSchema: z.strictObject({}),
  create() {
    return {
      async *read(ctx) {
        if (ctx.bookmark) return;
        yield { records: [{ id: 1 }, { id: 2 }], bookmark: { done: true } };
      },
    };
  },
});
`,
    });
    write(
      join(dir, 'pipeline.yaml'),
      `version: 1
name: third_party
pipeline:
  source: { type: versioned }
  sink: { type: file, config: { path: ./out.jsonl, format: jsonl } }
  state: { type: file, config: { path: ./state } }
`,
    );
    const listed = await runCli(['connectors', '-o', 'json'], { cwd: dir });
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { connectors: unknown[] }).connectors).toContainEqual(
      expect.objectContaining({ kind: 'source', id: 'versioned', version: '7.8.9-rc.1' }),
    );
    const run = await runCli(['run', 'pipeline.yaml', '-q'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const get = await runCli(['state', 'get', 'third_party::row-0', '-c', 'pipeline.yaml', '-o', 'json'], {
      cwd: dir,
    });
    expect(get.code, get.stderr).toBe(0);
    expect((JSON.parse(get.stdout) as Envelope).source).toEqual({ type: 'versioned', version: '7.8.9-rc.1' });
  });
});
