/**
 * A local REST API of named collections for tests of REST pipelines: `GET /{name}?updated_since=&
 * page=&per_page=` answers `{"data": [...]}`, records sorted by `updated_at` then `id`, only those
 * updated strictly after `updated_since`, one page at a time (page numbers from 1). Pages may be
 * delayed, so a test can kill a run in the middle of one.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type CollectionRecord = { id: number; updated_at: string } & Record<string, unknown>;

export interface CollectionsServer {
  readonly url: string;
  /** Requests answered so far, per collection. */
  readonly requests: Map<string, number>;
  /** Replace or extend a collection (records are kept sorted). */
  set(name: string, records: readonly CollectionRecord[]): void;
  add(name: string, records: readonly CollectionRecord[]): void;
  close(): Promise<void>;
}

const order = (a: CollectionRecord, b: CollectionRecord) =>
  a.updated_at < b.updated_at ? -1 : a.updated_at > b.updated_at ? 1 : a.id - b.id;

export async function startCollectionsServer(options: { delayMs?: number } = {}): Promise<CollectionsServer> {
  const collections = new Map<string, CollectionRecord[]>();
  const requests = new Map<string, number>();
  const reply = (res: ServerResponse, status: number, body: unknown) => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const name = url.pathname.slice(1);
    const records = collections.get(name);
    if (!records) return reply(res, 404, { error: `no collection ${name}` });
    requests.set(name, (requests.get(name) ?? 0) + 1);
    const since = url.searchParams.get('updated_since');
    const page = Number(url.searchParams.get('page') ?? '1');
    const perPage = Number(url.searchParams.get('per_page') ?? '100');
    const after = since === null ? records : records.filter((r) => r.updated_at > since);
    const data = after.slice((page - 1) * perPage, page * perPage);
    setTimeout(() => reply(res, 200, { data }), options.delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    set(name, records) {
      collections.set(name, [...records].sort(order));
    },
    add(name, records) {
      collections.set(name, [...(collections.get(name) ?? []), ...records].sort(order));
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
