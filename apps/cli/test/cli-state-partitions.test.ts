/**
 * `faucet state list|delete` with a source that checkpoints partitions (`{row key}::{partition}`, as
 * the REST source's `partitions` do): the sub-keys are listed, and deleting the row's key deletes
 * them too, so the next run really starts from the beginning.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  cleanupTempDirs,
  linkRuntime,
  runCli,
  tempDir,
  write,
  writePackage,
} from './helpers.js';

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

/** Three records per partition, the last one's page carrying `{offset: 3}` under the partition. */
const PARTITIONED_SOURCE = `
import { defineSource } from '@faucet/core';
import { z } from 'zod';
export default defineSource({
  id: 'parted',
  version: '1.0.0',
  configSchema: z.strictObject({ partitions: z.array(z.string()) }),
  create(config) {
    return {
      async *read(ctx) {
        for (const partition of config.partitions) {
          const stored = await ctx.partitionBookmark?.(partition);
          const offset = stored?.offset ?? 0;
          for (let n = offset + 1; n <= 3; n++) {
            yield { records: [{ id: partition + '-' + n }], partition, ...(n === 3 ? { bookmark: { offset: 3 } } : {}) };
          }
        }
      },
    };
  },
});
`;

const yaml = `version: 1
name: orders
pipeline:
  source: { type: parted, config: { partitions: [eu, us] } }
  sink: { type: fake, config: { path: ./out/orders.jsonl } }
  state: { type: file, config: { path: ./state } }
`;

function pluginDir(): string {
  const dir = tempDir('faucet-plugins-');
  const nodeModules = join(dir, 'node_modules');
  linkRuntime(nodeModules);
  writePackage(nodeModules, {
    name: 'faucet-source-parted',
    faucet: { apiVersion: 1, kind: 'source', id: 'parted' },
    code: PARTITIONED_SOURCE,
  });
  writePackage(nodeModules, {
    name: 'faucet-sink-fake',
    faucet: { apiVersion: 1, kind: 'sink', id: 'fake' },
    code: `
import { defineSink } from '@faucet/core';
import { z } from 'zod';
export default defineSink({
  id: 'fake',
  version: '1.0.0',
  configSchema: z.strictObject({ path: z.string() }),
  create() { return { async write() {} }; },
});
`,
  });
  return dir;
}

describe('faucet state with partition keys', () => {
  it('lists partition keys under the row; deleting the row key deletes them', async () => {
    const dir = tempDir();
    write(join(dir, 'orders.yaml'), yaml);
    const plugins = pluginDir();
    const cli = (...args: string[]) => runCli(args, { cwd: dir, env: { FAUCET_PLUGIN_PATH: plugins } });

    const first = await cli('run', 'orders.yaml', '--output', 'json');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).records_written).toBe(6);
    // A key of another row that merely starts with the same text must survive the delete.
    expect((await cli('state', 'set', 'orders::row-01', '{"offset": 1}', '-c', 'orders.yaml')).code).toBe(0);

    const list = await cli('state', 'list', '-c', 'orders.yaml');
    expect(list.stdout.trim().split('\n')).toEqual([
      'orders::row-01',
      'orders::row-0::eu',
      'orders::row-0::us',
    ]);
    const prefixed = await cli('state', 'list', '-c', 'orders.yaml', '--prefix', 'orders::row-0::');
    expect(prefixed.stdout.trim().split('\n')).toEqual(['orders::row-0::eu', 'orders::row-0::us']);

    const resumed = await cli('run', 'orders.yaml', '--output', 'json');
    expect(JSON.parse(resumed.stdout).records_written).toBe(0);

    const deleted = await cli('state', 'delete', 'orders::row-0', '-c', 'orders.yaml');
    expect(deleted.code).toBe(0);
    expect(deleted.stderr).toContain(
      'deleted 2 keys under "orders::row-0" (orders::row-0::eu, orders::row-0::us); its next run starts from the beginning',
    );
    const after = await cli('state', 'list', '-c', 'orders.yaml');
    expect(after.stdout.trim()).toBe('orders::row-01');

    const fresh = await cli('run', 'orders.yaml', '--output', 'json');
    expect(JSON.parse(fresh.stdout).records_written).toBe(6);

    // With the row key itself present, both are named.
    expect((await cli('state', 'set', 'orders::row-0', '{"offset": 0}', '-c', 'orders.yaml')).code).toBe(0);
    const both = await cli('state', 'delete', 'orders::row-0', '-c', 'orders.yaml');
    expect(both.stderr).toContain(
      'deleted "orders::row-0" and 2 keys under it (orders::row-0::eu, orders::row-0::us)',
    );
    expect((await cli('state', 'list', '-c', 'orders.yaml')).stdout.trim()).toBe('orders::row-01');
  });
});
