// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${parent.…} templates
/**
 * `beforeCheckpoint` (what a queue worker enqueues a DAG parent's children from): every record the
 * sink wrote is handed off once, on the flush before the checkpoint that passes it, so a stored
 * bookmark never covers a record that was not handed off; a failed hand-off fails the run before
 * that checkpoint.
 */
import { join } from 'node:path';
import { type FaucetRecord, Redactor, silentLogger } from '@faucet/core';
import { cleanupTempDirs, fakePluginDir, tempDir, write } from '@faucet/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../src/config/load.js';
import { childInvocations, rootInvocations } from '../src/invocations.js';
import { runInvocation } from '../src/runtime/invocation.js';
import { createStateStores } from '../src/runtime/state-stores.js';

afterAll(cleanupTempDirs);

async function setup() {
  const dir = tempDir();
  const file = write(
    join(dir, 'hand.yaml'),
    `version: 1
name: hand
pipeline:
  source: { type: fake, config: { count: 5, prefix: u } }
  sink: { type: fake, config: { path: ${dir}/out.jsonl } }
  state: { type: memory }
  batch_size: 2
matrix:
  - { id: users }
  - { id: posts, parent: users, source: { config: { prefix: "\${parent.id}-p" } } }
`,
  );
  const pipeline = await loadPipeline(file, { cwd: dir, env: {}, pluginPath: fakePluginDir(), cpus: 2 });
  const target = rootInvocations(pipeline)[0];
  if (!target?.row.connectors.state) throw new Error('the users row has no state store');
  const stateStores = createStateStores();
  const store = await stateStores.open(target.row.connectors.state, {
    logger: silentLogger,
    redactor: new Redactor(),
  });
  /** The offset of the stored bookmark (records the checkpoints passed). */
  const stored = async () => {
    const value = (await store.get('hand::users')) as { bookmark?: { offset?: number } } | undefined;
    return value?.bookmark?.offset ?? 0;
  };
  return { pipeline, target, stateStores, stored };
}

describe('beforeCheckpoint', () => {
  it('hands off every written record once, each before the checkpoint that passes it', async () => {
    const { pipeline, target, stateStores, stored } = await setup();
    const handedOff: FaucetRecord[] = [];
    const seen: Array<{ stored: number; handedOff: number }> = [];
    const outcome = await runInvocation(target, {
      stateStores,
      beforeCheckpoint: async (written) => {
        seen.push({ stored: await stored(), handedOff: handedOff.length });
        handedOff.push(...written);
      },
    });
    expect(outcome.status).toBe('ok');
    // Only the fields the children read (their parent_key `id`), in the order written.
    expect(handedOff).toEqual(['u1', 'u2', 'u3', 'u4', 'u5'].map((id) => ({ id })));
    // At every hand-off, the stored bookmark had passed only records handed off before it.
    for (const at of seen) expect(at.stored).toBeLessThanOrEqual(at.handedOff);
    expect(await stored()).toBe(5);
    const row = pipeline.rowsById.get('posts');
    if (!row) throw new Error('no posts row');
    expect(childInvocations(pipeline, row, handedOff).targets.map((t) => t.stateKey)).toEqual(
      ['u1', 'u2', 'u3', 'u4', 'u5'].map((id) => `hand::posts::${id}`),
    );
    await stateStores.closeAll();
  });

  it('a failed hand-off fails the run before the checkpoint that would pass its records', async () => {
    const { target, stateStores, stored } = await setup();
    let calls = 0;
    const outcome = await runInvocation(target, {
      stateStores,
      beforeCheckpoint: async () => {
        calls++;
        if (calls === 2) throw new Error('the queue is down');
      },
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.message).toContain('the queue is down');
    // The first page's checkpoint was stored after its hand-off; the second page's never was.
    expect(await stored()).toBe(2);
    await stateStores.closeAll();
  });
});
