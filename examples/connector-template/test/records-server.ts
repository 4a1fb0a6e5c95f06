/**
 * A local stand-in for the API the example source reads: `GET /records?after=&limit=` with a bearer
 * token, records sorted by `id`. It counts the records it has served (the streaming probe).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FaucetRecord } from '@faucet/core';

export interface RecordsServer {
  /** The records endpoint. */
  readonly url: string;
  /** Records served so far. */
  readonly served: number;
  load(records: readonly FaucetRecord[]): void;
  close(): Promise<void>;
}

export async function startRecordsServer(options: { token: string }): Promise<RecordsServer> {
  let records: FaucetRecord[] = [];
  let served = 0;
  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/records') return reply(res, 404, { error: 'not found' });
    if (req.headers.authorization !== `Bearer ${options.token}`)
      return reply(res, 401, { error: 'bad token' });
    const after = url.searchParams.get('after');
    const limit = Number(url.searchParams.get('limit') ?? 100);
    const page = records.filter((r) => after === null || Number(r.id) > Number(after)).slice(0, limit);
    served += page.length;
    reply(res, 200, { records: page });
  };
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/records`,
    get served() {
      return served;
    },
    load(next) {
      records = [...next].sort((a, b) => Number(a.id) - Number(b.id));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
