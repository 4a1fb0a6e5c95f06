/**
 * The dashboard's server against the repository's Redis (FAUCET_TEST_REDIS_URL; fails without it in
 * CI): Bull Board's page and API for the queue on 127.0.0.1, a clear error for a port in use, and
 * nothing served after close(). What a person sees in a browser is tested by the CLI
 * (apps/cli/test/cli-dashboard.integration.test.ts, headless Chromium).
 */
import { randomBytes } from 'node:crypto';
import { openQueue } from '@faucet/runner-bullmq';
import { withRedis } from '@faucet/test-support';
import { expect, it } from 'vitest';
import { DashboardPortInUseError, startDashboard } from '../src/index.js';

withRedis('startDashboard', (url) => {
  it('serves Bull Board for the queue on 127.0.0.1, read-only, until closed', async () => {
    const queueName = `q_board_${randomBytes(4).toString('hex')}`;
    const queue = openQueue({ url, queueName });
    const data = {
      runId: 'run-1',
      file: '/pipelines/orders.yaml',
      fileHash: 'f'.repeat(64),
      pipeline: 'orders',
      row: 'eu',
      stateKey: 'orders::eu',
    };
    await queue.add('eu', data, { jobId: 'orders||eu' });
    const dashboard = await startDashboard({ url, queueName, port: 0 });
    try {
      expect(dashboard.url).toBe(`http://127.0.0.1:${dashboard.port}/`);
      const page = await fetch(dashboard.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>faucet</title>');
      const api = (await (await fetch(`${dashboard.url}api/queues?activeQueue=${queueName}`)).json()) as {
        queues: Array<{ name: string; readOnlyMode: boolean; counts: Record<string, number> }>;
      };
      expect(api.queues.map((q) => [q.name, q.readOnlyMode, q.counts.waiting])).toEqual([
        [queueName, true, 1],
      ]);

      const taken = await startDashboard({
        url,
        queueName,
        port: dashboard.port,
        portFlag: '--dashboard-port',
      }).catch((error: unknown) => error);
      expect(taken).toBeInstanceOf(DashboardPortInUseError);
      expect((taken as Error).message).toBe(
        `cannot serve the dashboard on 127.0.0.1:${dashboard.port}: the port is in use; choose another with --dashboard-port`,
      );
    } finally {
      await dashboard.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
    await expect(fetch(dashboard.url)).rejects.toThrow();
  });

  it('an unreachable Redis is the queue error naming host:port, and nothing is served', async () => {
    const error = await startDashboard({ url: 'redis://:secret@127.0.0.1:1', port: 0 }).catch(
      (e: unknown) => e,
    );
    expect((error as { code?: string }).code).toBe('QUEUE_UNREACHABLE');
    expect((error as Error).message).toContain('127.0.0.1:1');
    expect((error as Error).message).not.toContain('secret');
  });
});
