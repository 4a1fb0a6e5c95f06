/**
 * A worker asked to stop (`close()`, SIGTERM in the CLI) in the middle of an invocation: the
 * invocation finishes its page and stores the checkpoint, the job goes back to the queue without
 * failing, and the next worker resumes it from that bookmark — every record once.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadPipeline } from '@faucet/pipeline';
import { cleanupTempDirs, fakePluginDir, tempDir, withRedis, write } from '@faucet/test-support';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { executionReport, followRun, openQueue, startWorker, submitRun } from '../src/index.js';

const host = { label: 'runner-bullmq tests', dir: join(dirname(fileURLToPath(import.meta.url)), '..') };
const env = { ...process.env, FAUCET_PLUGIN_PATH: fakePluginDir() };

afterAll(cleanupTempDirs);

withRedis('a worker stopping mid-invocation', (url) => {
  describe('close()', () => {
    it('checkpoints the page, puts the job back, and another worker resumes from the bookmark', async () => {
      const name = `rs_${randomBytes(4).toString('hex')}`;
      const dir = tempDir('faucet-runner-');
      const out = join(dir, 'out.jsonl');
      const file = write(
        join(dir, 'pipeline.yaml'),
        `version: 1
name: ${name}
pipeline:
  source: { type: fake, config: { count: 60, delay_ms: 40 } }
  sink: { type: fake, config: { path: ${out} } }
  state: { type: redis, config: { connection_url: "${url}", namespace: ${name} } }
  batch_size: 5
`,
      );
      const target = { url, queueName: name };
      const queue = openQueue(target);
      const redis = new Redis(url);
      try {
        const run = await submitRun(await loadPipeline(file, { env, host }), queue, target);
        const first = await startWorker({ ...target, env, host });
        // Wait for a stored checkpoint, so the stop comes in the middle of the invocation.
        const stored = async () => {
          const text = await redis.get(`${name}:${name}::row-0`);
          return text === null ? 0 : (JSON.parse(text) as { bookmark: { offset: number } }).bookmark.offset;
        };
        while ((await stored()) < 10) await sleep(10);
        await first.close();
        const afterStop = await stored();
        expect(afterStop).toBeLessThan(60);
        const state = await queue.getJobState(run.jobs[0]?.jobId ?? '');
        expect(['waiting', 'delayed', 'prioritized']).toContain(state);

        const second = await startWorker({ ...target, env, host });
        const report = executionReport(run, await followRun(queue, run, { pollMs: 50 }), 0);
        await second.close();
        expect(report.status).toBe('ok');
        expect(report.invocations[0]?.result?.recordsRead).toBe(60 - afterStop);
        const ids = readFileSync(out, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line).id as string);
        expect(ids).toEqual(Array.from({ length: 60 }, (_, i) => String(i + 1)));
      } finally {
        redis.disconnect();
        await queue.obliterate({ force: true });
        await queue.close();
      }
    });
  });
});
