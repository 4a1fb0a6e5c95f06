import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type FaucetRecord,
  type JsonObject,
  type JsonValue,
  type Logger,
  type Page,
  type Source,
  silentLogger,
} from '@faucet/core';

export interface TestServer {
  url: string;
  /** Records handed out so far (the streaming probe). */
  served: number;
  requests: { method: string; url: URL; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

export type Handler = (
  req: { method: string; url: URL; headers: IncomingMessage['headers']; body: string },
  res: ServerResponse,
  server: TestServer,
) => unknown;

export async function startServer(handler: Handler): Promise<TestServer> {
  const state: TestServer = {
    url: '',
    served: 0,
    requests: [],
    close: async () => {},
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const info = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', state.url),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      state.requests.push(info);
      Promise.resolve(handler(info, res, state)).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

export function json(res: ServerResponse, body: unknown, status = 200, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function makeRecords(count: number): FaucetRecord[] {
  return Array.from({ length: count }, (_, i) => ({ id: i + 1, name: `r${i + 1}`, updated_at: 1000 + i }));
}

export async function readAll(
  source: Source,
  bookmark?: JsonValue,
  batchSize = 500,
): Promise<{ records: FaucetRecord[]; pages: Page[] }> {
  const pages: Page[] = [];
  const records: FaucetRecord[] = [];
  const ctx = { bookmark, batchSize, signal: new AbortController().signal, logger: silentLogger };
  for await (const page of source.read(ctx)) {
    pages.push(page);
    records.push(...page.records);
  }
  return { records, pages };
}

export function lastBookmark(pages: readonly Page[]): JsonValue | undefined {
  let found: JsonValue | undefined;
  for (const page of pages) if (page.bookmark !== undefined) found = page.bookmark;
  return found;
}

export const noSleep = async () => {};

/** A logger that keeps every line, for tests that check what was logged. */
export function captureLogger(): {
  logger: Logger;
  lines: { level: string; msg: string; fields?: JsonObject }[];
} {
  const lines: { level: string; msg: string; fields?: JsonObject }[] = [];
  const at = (level: string) => (msg: string, fields?: JsonObject) => {
    lines.push(fields === undefined ? { level, msg } : { level, msg, fields });
  };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}
