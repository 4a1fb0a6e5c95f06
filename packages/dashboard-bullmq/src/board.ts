/**
 * Bull Board for one BullMQ queue, as a Hono app. Read-only: the UI shows queues, jobs, their data,
 * progress, results and errors, but offers no retry, clean, promote or remove — faucet's own
 * commands (`faucet run --queue`, `faucet runs cancel`) own the jobs' lifecycle, and a job removed
 * behind a submitter's back would be reported as gone.
 */
import { isAbsolute, resolve } from 'node:path';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import type { InvocationQueue } from '@faucet/runner-bullmq';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';

/**
 * The adapter hands serveStatic a root relative to the working directory at start-up, and the file
 * lookups resolve it against the working directory of each request. A worker changes directory to
 * each pipeline file's folder, so the root is made absolute here, once, while it is still right.
 */
const absoluteServeStatic: typeof serveStatic = (options) =>
  serveStatic({
    ...options,
    ...(options?.root === undefined || isAbsolute(options.root) ? {} : { root: resolve(options.root) }),
  });

export function createBoardApp(queue: InvocationQueue): Hono {
  const adapter = new HonoAdapter(absoluteServeStatic);
  adapter.setBasePath('/');
  createBullBoard({
    queues: [new BullMQAdapter(queue, { readOnlyMode: true, allowRetries: false })],
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'faucet', hideDocsLink: true } },
  });
  const app = new Hono();
  app.route('/', adapter.registerPlugin());
  return app;
}
