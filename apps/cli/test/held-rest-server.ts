/**
 * A local REST API for queue tests whose runs must last until the test says so: `GET /{name}?page=N
 * &per_page=M` answers page N of a collection of numbered records (`{"data": [...]}`). A collection
 * either holds one page back until `release(name)` (the run stays in the middle of its row, making
 * no progress), or is endless until released (full pages keep coming, `delayMs` apart, and after
 * the release the next page is empty). Either way the run lasts exactly as long as the test needs,
 * whatever the machine's speed.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HeldRestServer {
  readonly url: string;
  /** Serve a collection under `/name`. */
  collection(name: string, options: CollectionOptions): void;
  /** True once a request for the held page of `name` has arrived (and is being held). */
  holding(name: string): boolean;
  /** Answer the held request of `name`, and every later one at once. */
  release(name: string): void;
  close(): Promise<void>;
}

export interface CollectionOptions {
  /** How many records; absent: endless until released. */
  records?: number;
  /** Hold this page's answer until released. */
  holdPage?: number;
  /** Answer each page this long after its request. */
  delayMs?: number;
}

interface Collection extends CollectionOptions {
  held: Array<() => void>;
  released: boolean;
  /** Records of the pages answered so far (what an endless collection ends with once released). */
  served: number;
}

export async function startHeldRestServer(): Promise<HeldRestServer> {
  const collections = new Map<string, Collection>();
  const reply = (res: ServerResponse, status: number, body: unknown) => {
    if (!res.destroyed)
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const release = (name: string): void => {
    const collection = collections.get(name);
    if (!collection) return;
    collection.released = true;
    for (const answer of collection.held.splice(0)) answer();
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const collection = collections.get(url.pathname.slice(1));
    if (!collection) return reply(res, 404, { error: `no collection ${url.pathname}` });
    const page = Number(url.searchParams.get('page') ?? '1');
    const perPage = Number(url.searchParams.get('per_page') ?? '10');
    const first = (page - 1) * perPage + 1;
    const total = collection.records ?? (collection.released ? collection.served : Number.POSITIVE_INFINITY);
    const last = Math.min(page * perPage, total);
    collection.served = Math.max(collection.served, last);
    const data = Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => ({
      id: first + i,
      name: `record ${first + i}`,
    }));
    const answer = () => setTimeout(() => reply(res, 200, { data }), collection.delayMs ?? 0);
    if (page === collection.holdPage && !collection.released) collection.held.push(answer);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    collection(name, options) {
      collections.set(name, { ...options, held: [], released: false, served: 0 });
    },
    holding: (name) => (collections.get(name)?.held.length ?? 0) > 0,
    release,
    close() {
      for (const name of collections.keys()) release(name);
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A pipeline file (written by the caller) of one matrix row per collection: REST (10 records a
 * page, each page an engine page and checkpoint) → a JSON-lines file per row, state in Redis under
 * a namespace of the test's own.
 */
export function restToFilePipeline(options: {
  name: string;
  baseUrl: string;
  rows: readonly string[];
  namespace: string;
}): string {
  const matrix = options.rows
    .map(
      (row) =>
        `  - { id: ${row}, source: { config: { path: /${row} } }, sink: { config: { path: ./out/${row}.jsonl } } }`,
    )
    .join('\n');
  return `version: 1
name: ${options.name}
pipeline:
  source:
    type: rest
    config:
      base_url: "${options.baseUrl}"
      records_path: $.data
      pagination: { type: page_number, param: page, page_size: 10, page_size_param: per_page }
      max_pages: 1000000
      timeout_ms: 600000
  sink: { type: file, config: { format: jsonl } }
  batch_size: 10
  state: { type: redis, config: { connection_url: "\${env:FAUCET_TEST_REDIS_URL}", namespace: ${options.namespace} } }
matrix:
${options.rows.length > 0 ? matrix : ''}
`;
}
