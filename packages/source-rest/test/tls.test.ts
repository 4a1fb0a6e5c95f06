/**
 * TLS options against `node:https` servers on 127.0.0.1, with a CA, a server certificate and a
 * client certificate (its key encrypted with a passphrase) made by the `openssl` CLI at test time.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { ConfigError, configJsonSchema, isFaucetError, Redactor, type Source } from '@faucet/core';
import restSource, { createRestSource } from '@faucet/source-rest';
import { instantiate } from '@faucet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger, readAll } from './helpers.js';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const PASSPHRASE = 'pp-Hidden-5521';
let dir: string;
const file = (name: string) => join(dir, name);
const pem = (name: string) => readFileSync(file(name), 'utf8');

/** Runs `openssl` with the words of `command`, then `last` (for arguments with spaces). */
function openssl(command: string, ...last: string[]): void {
  execFileSync('openssl', [...command.split(/\s+/), ...last], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** CA, a server certificate for 127.0.0.1 and localhost, and a client certificate with an encrypted key. */
function makeCertificates(): void {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch (error) {
    throw new Error(
      `the TLS tests need the openssl CLI on PATH (Debian: apt-get install openssl): ${(error as Error).message}`,
    );
  }
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1';
  const sign = '-CA ca.pem -CAkey ca.key -CAcreateserial -days 2';
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  writeFileSync(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl(`req -x509 ${ec} -nodes -keyout ca.key -out ca.pem -days 2 -subj`, '/CN=faucet test CA');
  openssl(`req ${ec} -nodes -keyout server.key -out server.csr -subj`, '/CN=localhost');
  openssl(`x509 -req -in server.csr ${sign} -out server.pem -extfile server.ext`);
  openssl(
    `req ${ec} -keyout client.key -passout pass:${PASSPHRASE} -out client.csr -subj`,
    '/CN=faucet client',
  );
  openssl(`x509 -req -in client.csr ${sign} -out client.pem -extfile client.ext`);
}

interface HttpsServer {
  url: string;
  port: number;
  connections: number;
  server: Server;
}

async function startHttps(mutual: boolean): Promise<HttpsServer> {
  const server = createServer(
    {
      key: pem('server.key'),
      cert: pem('server.pem'),
      ...(mutual ? { ca: pem('ca.pem'), requestCert: true, rejectUnauthorized: true } : {}),
    },
    (req, res) => {
      if (req.url === '/echo-secret') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        return res.end(`wrong passphrase ${PASSPHRASE} for the key`);
      }
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ id: 1, client: peer?.subject?.CN ?? null }]));
    },
  );
  const state: HttpsServer = { url: '', port: 0, connections: 0, server };
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.url = `https://127.0.0.1:${state.port}`;
  return state;
}

let plain: HttpsServer;
let mutual: HttpsServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'faucet-rest-tls-'));
  makeCertificates();
  plain = await startHttps(false);
  mutual = await startHttps(true);
});
afterAll(async () => {
  for (const s of [plain, mutual]) {
    s?.server.closeAllConnections();
    await new Promise((resolve) => s?.server.close(resolve));
  }
  rmSync(dir, { recursive: true, force: true });
});

async function failure(source: Source): Promise<Error> {
  const error = await readAll(source).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected the read to fail');
  return error;
}

describe('server verification', () => {
  it('trusts the CA of tls.ca_file (or tls.ca as PEM text)', async () => {
    const viaFile = await readAll(
      createRestSource({ base_url: plain.url, tls: { ca_file: file('ca.pem') } }),
    );
    expect(viaFile.records).toEqual([{ id: 1, client: null }]);
    const viaText = await readAll(createRestSource({ base_url: plain.url, tls: { ca: pem('ca.pem') } }));
    expect(viaText.records).toHaveLength(1);
  });

  it('without the CA: a clear, unretried error naming host:port and tls.ca_file', async () => {
    const sleeps: number[] = [];
    const before = plain.connections;
    const error = await failure(
      createRestSource(
        { base_url: plain.url, path: '/items' },
        {
          sleep: async (ms) => {
            sleeps.push(ms);
          },
        },
      ),
    );
    expect(isFaucetError(error) && error.code).toBe('CONNECTION_FAILED');
    expect(isFaucetError(error) && error.retryable).toBe(false);
    // faucet's words and the named parts around Node's reason, whose text changes between Node majors.
    expect(error.message).toMatch(
      new RegExp(
        `^${escapeRegExp(`GET ${plain.url}/items: the TLS certificate of 127.0.0.1:${plain.port} could not be verified (`)}` +
          `.+${escapeRegExp('); if the server uses a private or self-signed CA, set tls.ca_file to that CA certificate (PEM)')}$`,
      ),
    );
    expect(error.message).not.toContain('\n');
    expect(sleeps).toEqual([]);
    expect(plain.connections - before).toBe(1);
  });

  it('reject_unauthorized: false reads, and warns once per source', async () => {
    const { logger, lines } = captureLogger();
    const source = createRestSource({ base_url: plain.url, tls: { reject_unauthorized: false } }, { logger });
    const ctx = { bookmark: undefined, batchSize: 10, signal: new AbortController().signal, logger };
    for (let run = 0; run < 2; run++) {
      const records = [];
      for await (const page of source.read(ctx)) records.push(...page.records);
      expect(records).toHaveLength(1);
    }
    await source.check?.();
    const warnings = lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toContain(
      'tls.reject_unauthorized is false: server certificates are not verified',
    );
  });

  it('server_name is the name checked against the certificate', async () => {
    const ok = await readAll(
      createRestSource({ base_url: plain.url, tls: { ca_file: file('ca.pem'), server_name: 'localhost' } }),
    );
    expect(ok.records).toHaveLength(1);
    const error = await failure(
      createRestSource({
        base_url: plain.url,
        max_retries: 0,
        tls: { ca_file: file('ca.pem'), server_name: 'api.example.com' },
      }),
    );
    expect(error.message).toContain(`the TLS certificate of 127.0.0.1:${plain.port} could not be verified`);
    expect(error.message).toContain('set tls.server_name');
  });
});

describe('client certificates', () => {
  const client = () => ({
    ca_file: file('ca.pem'),
    cert_file: file('client.pem'),
    key_file: file('client.key'),
    passphrase: PASSPHRASE,
  });

  it('a server that requires one accepts cert_file + key_file (+ passphrase), or cert + key as PEM text', async () => {
    const { records } = await readAll(createRestSource({ base_url: mutual.url, tls: client() }));
    expect(records).toEqual([{ id: 1, client: 'faucet client' }]);
    const inline = await readAll(
      createRestSource({
        base_url: mutual.url,
        tls: { ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key'), passphrase: PASSPHRASE },
      }),
    );
    expect(inline.records).toEqual([{ id: 1, client: 'faucet client' }]);
  });

  it('without one: a clear, unretried error suggesting tls.cert_file and tls.key_file', async () => {
    const sleeps: number[] = [];
    const error = await failure(
      createRestSource(
        { base_url: mutual.url, tls: { ca_file: file('ca.pem') } },
        {
          sleep: async (ms) => {
            sleeps.push(ms);
          },
        },
      ),
    );
    expect(isFaucetError(error) && error.code).toBe('CONNECTION_FAILED');
    expect(isFaucetError(error) && error.retryable).toBe(false);
    expect(error.message).toMatch(
      new RegExp(
        `^GET ${mutual.url}/: the server at 127\\.0\\.0\\.1:${mutual.port} refused the TLS handshake \\(`,
      ),
    );
    expect(error.message).toContain('set tls.cert_file and tls.key_file');
    expect(error.message).not.toContain('\n');
    expect(sleeps).toEqual([]);
  });
});

describe('secrets', () => {
  const keyLines = () =>
    pem('client.key')
      .split('\n')
      .filter((line) => line.length > 20 && !line.startsWith('-----'));

  it('a wrong passphrase is a ConfigError that shows neither the passphrase nor the key', () => {
    let error: unknown;
    try {
      createRestSource({
        base_url: mutual.url,
        tls: { cert_file: file('client.pem'), key_file: file('client.key'), passphrase: 'not-the-Right-one' },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toBe(
      'invalid config for source "rest": tls.key_file: cannot decrypt the private key: tls.passphrase is wrong or missing',
    );
    expect(`${message}\n${(error as Error).stack}`).not.toContain('not-the-Right-one');
    for (const line of keyLines()) expect(message).not.toContain(line);
  });

  it('the passphrase is scrubbed from server answers shown in errors', async () => {
    const source = await instantiate(restSource, {
      base_url: mutual.url,
      path: '/echo-secret',
      max_retries: 0,
      tls: {
        ca_file: file('ca.pem'),
        cert: pem('client.pem'),
        key: pem('client.key'),
        passphrase: PASSPHRASE,
      },
    });
    const error = await failure(source);
    expect(error.message).toBe(`GET ${mutual.url}/echo-secret: HTTP 500: wrong passphrase *** for the key`);
    expect(`${error.message}\n${error.stack}`).not.toContain(PASSPHRASE);
  });

  it('tls.key and tls.passphrase are schema-marked secrets (the CLI scrubs them everywhere)', () => {
    const config = {
      base_url: plain.url,
      tls: { key: 'key-Text-8812', passphrase: PASSPHRASE, ca: 'ca-text' },
    };
    const redactor = Redactor.forConfig(config, configJsonSchema(restSource));
    expect(redactor.redact(`key-Text-8812 ${PASSPHRASE} ca-text`)).toBe('*** *** ca-text');
  });

  it('bad TLS settings are config errors naming the field', () => {
    const make = (tls: object) => () => createRestSource({ base_url: plain.url, tls } as never);
    expect(make({ ca: 'x', ca_file: 'y' })).toThrow('tls.ca_file: give ca or ca_file, not both');
    expect(make({ cert_file: file('client.pem') })).toThrow(/tls\.key_file: a client certificate needs both/);
    expect(make({ passphrase: 'abc' })).toThrow('tls.passphrase: passphrase needs key or key_file');
    expect(make({ ca_file: file('missing.pem') })).toThrow(
      `tls.ca_file: cannot read ${file('missing.pem')} (ENOENT)`,
    );
    expect(make({ ca_file: file('server.ext') })).toThrow('tls.ca_file: no PEM certificate');
    expect(
      make({ cert_file: file('server.ext'), key_file: file('client.key'), passphrase: PASSPHRASE }),
    ).toThrow('tls.cert_file: not a certificate in PEM form');
    expect(make({ cert_file: file('client.pem'), key: 'garbage-key-text' })).toThrow(
      /^invalid config for source "rest": tls\.key: not a private key in PEM form \([^)]*\)$/,
    );
    expect(
      make({ cert_file: file('server.pem'), key_file: file('client.key'), passphrase: PASSPHRASE }),
    ).toThrow('tls.key_file: the private key does not belong to the client certificate');
  });
});
