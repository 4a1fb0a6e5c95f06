/**
 * The HTTP server behind `--metrics-port`: GET /metrics answers with what the Prometheus exporter
 * collects. Ours rather than the exporter's own, because the exporter treats port 0 as "not set"
 * (it would take 9464) and hides the port it got; and we close it with its keep-alive connections,
 * so a finished run exits at once even while Prometheus holds a connection open.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '@faucet/pipeline';

export interface MetricsServer {
  /** http://host:port/metrics with the port actually bound (also for port 0). */
  readonly url: string;
  /** Stop listening and drop open connections. Never throws. */
  close(): Promise<void>;
}

export const METRICS_PATH = '/metrics';

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): UsageError {
  const where = `${host}:${port}`;
  const message =
    error.code === 'EADDRINUSE'
      ? `--metrics-port ${port}: port ${port} is already in use on ${host} ` +
        '(choose another port, or 0 for any free one)'
      : error.code === 'EACCES'
        ? `--metrics-port ${port}: not allowed to listen on ${where} (ports below 1024 need privileges)`
        : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
          ? `--metrics-host ${host}: no such local address to listen on (${error.code})`
          : `cannot serve metrics on ${where}: ${error.message}`;
  return new UsageError(message, { cause: error });
}

/** Listen on host:port; a port in use (or any other listen error) is a UsageError naming it. */
export function serveMetrics(
  host: string,
  port: number,
  handle: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== METRICS_PATH) {
      response
        .writeHead(404, { 'content-type': 'text/plain' })
        .end(`not found; metrics are at ${METRICS_PATH}\n`);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    try {
      handle(request, response);
    } catch {
      // serving metrics never fails a run
      if (!response.headersSent) response.writeHead(500);
      response.end();
    }
  });
  // A scraper's connection that errors must not surface as an uncaught error.
  server.on('clientError', (_error, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, host, port));
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      server.on('error', () => {});
      const bound = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${hostForUrl(host)}:${bound}${METRICS_PATH}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
