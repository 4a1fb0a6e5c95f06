/**
 * Serving the board over HTTP on 127.0.0.1 only: the dashboard shows job data (file paths, state
 * keys, error messages) and has no login, so it is never reachable from another host; reach it
 * from elsewhere through an SSH tunnel (`ssh -L 3000:127.0.0.1:3000 worker-host`).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { DashboardPortInUseError } from './errors.js';

export const DASHBOARD_HOST = '127.0.0.1';

export interface ListeningServer {
  /** `http://127.0.0.1:<port>/` (the port actually bound when 0 was asked). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function listen(app: Hono, port: number, flag?: string): Promise<ListeningServer> {
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolvePromise, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(new DashboardPortInUseError(`${DASHBOARD_HOST}:${port}`, flag, { cause: error }));
      } else reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolvePromise();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, DASHBOARD_HOST);
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${DASHBOARD_HOST}:${bound}/`,
    port: bound,
    close: () =>
      new Promise<void>((resolvePromise) => {
        // The page polls over keep-alive connections; close them, or close() waits for the browser.
        server.close(() => resolvePromise());
        server.closeAllConnections();
      }),
  };
}
