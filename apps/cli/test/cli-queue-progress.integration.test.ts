/**
 * `faucet run --queue` shows the progress of a local run while it follows its jobs: the worker puts
 * each invocation's progress in its job about once a second and the submitter prints it with the
 * local run's display (plain lines here, stderr not being a terminal, one every 5 s per running
 * invocation). The REST source's server keeps answering full pages until the test has seen a
 * progress line, then ends the collection, so the run lasts exactly as long as needed, whatever the
 * machine's speed. Needs FAUCET_TEST_REDIS_URL (fails without it in CI).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { withRedis } from '@faucet/test-support';
import { afterAll, expect, it } from 'vitest';
import { type HeldRestServer, restToFilePipeline, startHeldRestServer } from './held-rest-server.js';
import { assertBuilt, cleanupTempDirs, readJsonl, startCli, tempDir, waitFor, write } from './helpers.js';

/** A progress line of the local run's plain display, with something written already. */
const PROGRESS_LINE = /\] r0: [1-9][\d,]* records written \([\d,]+\/s\), [\d,]+ pages?, last checkpoint /;

withRedis('faucet run --queue: live progress', (redisUrl) => {
  const children: Array<ReturnType<typeof startCli>> = [];
  let server: HeldRestServer | undefined;
  afterAll(async () => {
    for (const child of children) if (child.child.exitCode === null) child.child.kill('SIGKILL');
    await server?.close();
    cleanupTempDirs();
  });

  it('prints progress lines of a running invocation, as a local run does, then the summary', async () => {
    assertBuilt();
    server = await startHeldRestServer();
    server.collection('r0', { delayMs: 50 });
    const tag = randomBytes(4).toString('hex');
    const queue = `q_progress_${tag}`;
    const dir = tempDir('faucet-queue-progress-');
    write(
      join(dir, 'pipeline.yaml'),
      restToFilePipeline({
        name: `progress_${tag}`,
        baseUrl: server.url,
        rows: ['r0'],
        namespace: `t_${tag}`,
      }),
    );
    const env = { FAUCET_TEST_REDIS_URL: redisUrl };
    const worker = startCli(['worker', '--queue', redisUrl, '--queue-name', queue], {
      cwd: dir,
      env,
      timeoutMs: 300_000,
    });
    children.push(worker);
    const submit = startCli(['run', 'pipeline.yaml', '--queue', redisUrl, '--queue-name', queue], {
      cwd: dir,
      env,
      timeoutMs: 300_000,
    });
    children.push(submit);

    await waitFor(
      () => PROGRESS_LINE.test(submit.output().stderr),
      'a progress line from the submitter',
      60_000,
    ).catch((error: Error) => {
      throw new Error(
        `${error.message}\nsubmitter:\n${submit.output().stderr}\nworker:\n${worker.output().stderr}`,
      );
    });
    expect(submit.output().stderr).toContain(`r0: started (state key progress_${tag}::r0)`);
    server.release('r0');

    const result = await submit.done;
    expect(result.code, result.stderr).toBe(0);
    const ids = readJsonl(join(dir, 'out', 'r0.jsonl')).map((r) => r.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    const written = ids.length.toLocaleString('en-US');
    // The invocation's end and the summary, as a local run prints them.
    expect(result.stderr).toContain(`r0: ok, ${written} records written in `);
    expect(result.stderr).toContain(
      `progress_${tag}: ok — 1 invocation (1 ok), ${written} records written in `,
    );
    worker.child.kill('SIGTERM');
    expect((await worker.done).code).toBe(0);
  }, 300_000);
});
