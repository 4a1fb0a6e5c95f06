// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${env:…} interpolation
/**
 * `faucet dlq inspect|replay` and `faucet state list|get|set|delete` through the real CLI, with the
 * fixture connectors (FAUCET_PLUGIN_PATH) and the file DLQ sink.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanupTempDirs, fakePluginDir, readJsonl, runCli, tempDir, write } from './helpers.js';

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

const yaml = `version: 1
name: orders
pipeline:
  source:
    type: fake
    config:
      records:
        - { id: a }
        - { id: b, rej: true }
        - { id: c, rej: true, bad: true }
        - { id: d }
  sink:
    type: fake
    # The field is chosen per run through the environment; its names are short on purpose: values of 6
    # characters or more that come from \${env:} are scrubbed from all output as possible secrets.
    config: { path: ./out/orders.jsonl, reject_field: "\${env:REJECT_FIELD}" }
  state: { type: file, config: { path: ./state } }
  dlq:
    sink: { type: file, config: { path: ./out/dlq.jsonl, format: jsonl } }
`;

describe('faucet dlq and faucet state', () => {
  const plugins = fakePluginDir();

  it('inspects the DLQ by error kind and replays it; rows failing again go to replay-failed', async () => {
    const dir = tempDir();
    write(join(dir, 'orders.yaml'), yaml);
    const cli = (reject: string, ...args: string[]) =>
      runCli(args, { cwd: dir, env: { FAUCET_PLUGIN_PATH: plugins, REJECT_FIELD: reject } });

    const run = await cli('rej', 'run', 'orders.yaml');
    expect(run.code, run.stderr).toBe(0);
    expect(readJsonl(join(dir, 'out', 'orders.jsonl')).map((r) => r.id)).toEqual(['a', 'd']);

    const inspect = await cli('rej', 'dlq', 'inspect', 'orders.yaml', '--output', 'json');
    expect(inspect.code, inspect.stderr).toBe(0);
    const [summary] = (JSON.parse(inspect.stdout) as { files: Array<Record<string, unknown>> }).files;
    expect(summary).toMatchObject({
      total: 2,
      by_kind: [
        { kind: 'SINK_ROW_REJECTED', count: 2, first_message: expect.stringContaining('rejected row b') },
      ],
      by_row: [{ row: 'row-0', count: 2 }],
      by_reason: [{ reason: 'partial', count: 2 }],
    });
    const text = await cli('rej', 'dlq', 'inspect', 'orders.yaml', '--limit', '1');
    expect(text.stdout).toContain('2 dead-lettered records');
    expect(text.stdout).toContain('SINK_ROW_REJECTED');

    // Replay with the sink now refusing only rows marked bad.
    const replay = await cli('bad', 'dlq', 'replay', 'orders.yaml', '--output', 'json');
    expect(replay.code).toBe(1); // one row failed again
    const [result] = (JSON.parse(replay.stdout) as { files: Array<Record<string, unknown>> }).files;
    expect(result).toMatchObject({ replayed: 1, failed: 1 });
    expect(readJsonl(join(dir, 'out', 'orders.jsonl')).map((r) => r.id)).toEqual(['a', 'd', 'b']);
    const refailed = readJsonl(join(dir, 'out', 'dlq.replay-failed.jsonl'));
    expect(refailed.map((e) => (e.payload as { id: string }).id)).toEqual(['c']);
    expect(existsSync(join(dir, 'out', 'dlq.jsonl'))).toBe(false);
    expect(readdirSync(join(dir, 'out')).some((f) => /^dlq\.replayed-\d{8}T\d{6}Z\.jsonl$/.test(f))).toBe(
      true,
    );

    const again = await cli('bad', 'dlq', 'replay', 'orders.yaml');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('no DLQ file');
  });

  it('lists, reads, sets and deletes state', async () => {
    const dir = tempDir();
    write(join(dir, 'orders.yaml'), yaml);
    const cli = (...args: string[]) =>
      runCli(args, { cwd: dir, env: { FAUCET_PLUGIN_PATH: plugins, REJECT_FIELD: 'rej' } });
    expect((await cli('run', 'orders.yaml')).code).toBe(0);

    const list = await cli('state', 'list', '-c', 'orders.yaml');
    expect(list.stdout.trim()).toBe('orders::row-0');
    const get = await cli('state', 'get', 'orders::row-0', '-c', 'orders.yaml', '--output', 'json');
    expect(JSON.parse(get.stdout)).toMatchObject({ v: 1, bookmark: { offset: 4 }, source: { type: 'fake' } });

    // A bare bookmark is wrapped in an envelope; the next run resumes from it.
    expect((await cli('state', 'set', 'orders::row-0', '{"offset": 3}', '-c', 'orders.yaml')).code).toBe(0);
    const set = JSON.parse((await cli('state', 'get', 'orders::row-0', '-c', 'orders.yaml')).stdout);
    expect(set).toMatchObject({ v: 1, bookmark: { offset: 3 }, source: { type: 'fake', version: '1.2.3' } });
    const rerun = await cli('run', 'orders.yaml', '--output', 'json');
    expect(JSON.parse(rerun.stdout).records_written).toBe(1);

    expect((await cli('state', 'delete', 'orders::row-0', '-c', 'orders.yaml')).code).toBe(0);
    const missing = await cli('state', 'get', 'orders::row-0', '-c', 'orders.yaml');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no state stored under "orders::row-0"');
    const bad = await cli('state', 'set', 'orders::row-0', 'not json', '-c', 'orders.yaml');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('the value must be JSON');
  });
});
