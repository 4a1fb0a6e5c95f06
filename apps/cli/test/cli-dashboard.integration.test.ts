/**
 * The dashboard as a user sees it: a real `faucet worker --dashboard-port 0` on the repository's
 * Redis runs a file of two rows (REST → file, state in Redis); one row's REST server holds a page
 * back, so that row stays running, while the other finishes. Headless Chromium (Debian's, driven
 * by playwright-core) opens the URL the worker printed: the queue is listed, the running row's job
 * is under Active and the finished one under Completed, with no retry or clean buttons (read-only).
 * Then `faucet dashboard` on the port in use fails naming host:port and its flag; on a free port it
 * shows the same board until SIGTERM closes it; SIGTERM closes the worker's HTTP server too. The Redis URL carries a password, which is never printed.
 *
 * Needs FAUCET_TEST_REDIS_URL and Chromium: both fail in CI when missing, and are skipped elsewhere.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { chromiumArgs, withChromium, withRedis } from '@faucet/test-support';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
import { type HeldRestServer, restToFilePipeline, startHeldRestServer } from './held-rest-server.js';
import { assertBuilt, cleanupTempDirs, runCli, startCli, tempDir, waitFor, write } from './helpers.js';

const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
/** What the page takes to show: the UI polls every few seconds. */
const UI_MS = 30_000;

/** The same server with a password in the URL (Redis without auth accepts and ignores it). */
function withPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = PASSWORD;
  return parsed.toString();
}

/** Only the dashboard on loopback: the page's web fonts and anything else outside are refused at once. */
async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.route('**/*', (route) =>
    new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort(),
  );
  await page.goto(url);
  return page;
}

withRedis('faucet worker --dashboard-port', (redisUrl) => {
  withChromium('in headless Chromium', (chromiumPath) => {
    const children: Array<ReturnType<typeof startCli>> = [];
    let server: HeldRestServer | undefined;
    let browser: Browser | undefined;
    afterAll(async () => {
      for (const child of children) if (child.child.exitCode === null) child.child.kill('SIGKILL');
      await browser?.close();
      await server?.close();
      cleanupTempDirs();
    });

    it('shows the queue, a running job and a finished one; read-only; closed with the worker', async () => {
      assertBuilt();
      server = await startHeldRestServer();
      server.collection('r_running', { records: 50, holdPage: 2 });
      server.collection('r_done', { records: 30 });
      const tag = randomBytes(4).toString('hex');
      const queue = `q_dash_${tag}`;
      const dir = tempDir('faucet-dashboard-');
      write(
        join(dir, 'pipeline.yaml'),
        restToFilePipeline({
          name: `dash_${tag}`,
          baseUrl: server.url,
          rows: ['r_running', 'r_done'],
          namespace: `t_${tag}`,
        }),
      );
      const env = { FAUCET_TEST_REDIS_URL: redisUrl };
      const queueUrl = withPassword(redisUrl);
      const worker = startCli(
        ['worker', '--queue', queueUrl, '--queue-name', queue, '--concurrency', '2', '--dashboard-port', '0'],
        { cwd: dir, env, timeoutMs: 300_000 },
      );
      children.push(worker);
      const urlLine = () =>
        /dashboard: (http:\/\/127\.0\.0\.1:(\d+)\/) .*127\.0\.0\.1 only/.exec(worker.output().stderr);
      await waitFor(() => urlLine() !== null, 'the dashboard line of the worker', 60_000);
      const [, dashboardUrl = '', port = ''] = urlLine() ?? [];

      const submitted = await runCli(
        ['run', 'pipeline.yaml', '--queue', queueUrl, '--queue-name', queue, '--detach'],
        {
          cwd: dir,
          env,
        },
      );
      expect(submitted.code, submitted.stderr).toBe(0);
      await waitFor(
        () =>
          server?.holding('r_running') === true && /finished \S+::r_done: ok/.test(worker.output().stderr),
        'one row held mid-run and the other finished',
        120_000,
      );

      browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs() });
      const page = await openPage(browser, dashboardUrl);
      await page.getByRole('link', { name: queue }).first().click({ timeout: UI_MS });
      await page.getByText('ACTIVE', { exact: true }).click({ timeout: UI_MS });
      await page.getByText('r_running', { exact: true }).waitFor({ timeout: UI_MS });
      await page.getByText('COMPLETED', { exact: true }).click({ timeout: UI_MS });
      await page.getByText('r_done', { exact: true }).waitFor({ timeout: UI_MS });
      expect(await page.getByText('r_running', { exact: true }).count()).toBe(0);
      // Read-only: a finished job offers nothing to retry, clean, promote or remove.
      expect(await page.getByRole('button', { name: /retry|clean|promote|remove|delete/i }).count()).toBe(0);

      // The port is taken: a standalone dashboard there says so, naming host:port and its flag.
      const taken = await runCli(['dashboard', '--queue', queueUrl, '--queue-name', queue, '--port', port], {
        cwd: dir,
      });
      expect(taken.code).toBe(1);
      expect(taken.stderr).toContain(`cannot serve the dashboard on 127.0.0.1:${port}: the port is in use`);
      expect(taken.stderr).toContain('--port');

      // The standalone dashboard: the same board in the browser, until SIGTERM closes it.
      const standalone = startCli(['dashboard', '--queue', queueUrl, '--queue-name', queue, '--port', '0'], {
        cwd: dir,
        timeoutMs: 120_000,
      });
      children.push(standalone);
      const standaloneLine = () =>
        /dashboard: (http:\/\/127\.0\.0\.1:\d+\/) /.exec(standalone.output().stderr);
      await waitFor(() => standaloneLine() !== null, 'the standalone dashboard line', 60_000);
      const standaloneUrl = standaloneLine()?.[1] ?? '';
      const second = await openPage(browser, standaloneUrl);
      await second.getByRole('link', { name: queue }).first().click({ timeout: UI_MS });
      await second.getByText('ACTIVE', { exact: true }).click({ timeout: UI_MS });
      await second.getByText('r_running', { exact: true }).waitFor({ timeout: UI_MS });
      standalone.child.kill('SIGTERM');
      const closed = await standalone.done;
      expect(closed.code, closed.stderr).toBe(0);
      await expect(fetch(standaloneUrl)).rejects.toThrow();

      server.release('r_running');
      await waitFor(
        () => /finished \S+::r_running: ok/.test(worker.output().stderr),
        'the held row to finish',
        120_000,
      );
      worker.child.kill('SIGTERM');
      const end = await worker.done;
      expect(end.code, end.stderr).toBe(0);
      await expect(fetch(dashboardUrl)).rejects.toThrow();
      for (const output of [end.stderr, end.stdout, submitted.stderr, taken.stderr, closed.stderr]) {
        expect(output).not.toContain(PASSWORD);
      }
    }, 400_000);
  });
});
