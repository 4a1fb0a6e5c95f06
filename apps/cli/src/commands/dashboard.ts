/**
 * `faucet dashboard --queue redis://…`: Bull Board (read-only) for the queue of `faucet run --queue`,
 * on 127.0.0.1 only, until SIGINT/SIGTERM. `faucet worker --dashboard-port` serves the same board
 * beside its jobs through `serveDashboard`. @faucet/dashboard-bullmq (Bull Board, Hono) is imported
 * only here, so no other command pays for it.
 */
import { DEFAULT_DASHBOARD_PORT } from '../flags.js';
import { type CliIo, ExitCode, writeLine } from '../io.js';
import { waitForSignal } from '../signals.js';

export interface DashboardCommandOptions {
  queue: string;
  queueName?: string;
  port?: number;
}

export interface ServedDashboard {
  close(): Promise<void>;
}

/** Start the board and print its URL; the Redis URL's credentials are never printed (host:port only). */
export async function serveDashboard(
  options: { queue: string; queueName?: string; port: number; portFlag: string },
  io: CliIo,
): Promise<ServedDashboard> {
  const [{ startDashboard }, { redisEndpoint, DEFAULT_QUEUE_NAME }] = await Promise.all([
    import('@faucet/dashboard-bullmq'),
    import('@faucet/runner-bullmq'),
  ]);
  const dashboard = await startDashboard({
    url: options.queue,
    ...(options.queueName ? { queueName: options.queueName } : {}),
    port: options.port,
    portFlag: options.portFlag,
  });
  const name = options.queueName ?? DEFAULT_QUEUE_NAME;
  writeLine(
    io.stderr,
    `dashboard: ${dashboard.url} (Bull Board, read-only, queue "${name}" on ${redisEndpoint(options.queue)}; ` +
      'listening on 127.0.0.1 only)',
  );
  return dashboard;
}

export async function dashboardCommand(options: DashboardCommandOptions, io: CliIo): Promise<number> {
  const dashboard = await serveDashboard(
    {
      queue: options.queue,
      ...(options.queueName ? { queueName: options.queueName } : {}),
      port: options.port ?? DEFAULT_DASHBOARD_PORT,
      portFlag: '--port',
    },
    io,
  );
  writeLine(io.stderr, 'faucet dashboard: Ctrl-C stops');
  const signal = await waitForSignal();
  await dashboard.close();
  writeLine(io.stderr, `${signal}: faucet dashboard stopped`);
  return ExitCode.ok;
}
