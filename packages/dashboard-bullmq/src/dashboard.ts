/** A running dashboard: the queue it watches and the HTTP server that shows it, closed together. */
import { type InvocationQueue, openQueue, probeRedis, type QueueTarget } from '@faucet/runner-bullmq';
import { createBoardApp } from './board.js';
import { listen } from './server.js';

export interface DashboardOptions extends QueueTarget {
  /** The port on 127.0.0.1 (0: any free port; the bound one is in `url`). */
  port: number;
  /** The command-line flag that sets the port, named in the port-in-use error (`--dashboard-port`). */
  portFlag?: string;
}

export interface Dashboard {
  /** `http://127.0.0.1:<port>/`. */
  url: string;
  port: number;
  /** Stop serving and close the dashboard's Redis connections. */
  close(): Promise<void>;
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  await probeRedis(options.url);
  const queue: InvocationQueue = openQueue(options);
  try {
    const server = await listen(createBoardApp(queue), options.port, options.portFlag);
    return {
      url: server.url,
      port: server.port,
      async close() {
        await server.close();
        await queue.close();
      },
    };
  } catch (error) {
    await queue.close();
    throw error;
  }
}
