/**
 * The HTTP client: undici's `fetch` with an undici `Agent` of the same undici version as the
 * dispatcher (Node's global fetch is a different, bundled undici; mixing the two is unsupported).
 * The agent carries the TLS settings: a custom CA, a client certificate and key, `server_name`, and
 * `reject_unauthorized`.
 *
 * Agents are shared by every source of the process with the same TLS settings (one without any), the
 * way global fetch shares its one dispatcher: a DAG child created once per parent record reuses the
 * open connections instead of paying a TLS handshake per parent. Idle connections do not keep the
 * process alive and close after the keep-alive timeout.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ConfigError, type ConfigIssue, type Redactor } from '@faucet/core';
import {
  Agent,
  buildConnector,
  type RequestInfo as UndiciRequestInfo,
  type RequestInit as UndiciRequestInit,
  fetch as undiciFetch,
} from 'undici';
import type { TlsConfig } from './config.js';

export interface Transport {
  fetch: typeof fetch;
  /** True when server certificates are not verified (`reject_unauthorized: false`). */
  insecure: boolean;
}

/** An agent and the TLS alerts its connections received (see `withTlsAlerts`). */
interface SharedAgent {
  agent: Agent;
  alerts: TlsAlerts;
}

const agents = new Map<string, SharedAgent>();

function sharedAgent(key: string, connectOptions: buildConnector.BuildOptions): SharedAgent {
  let shared = agents.get(key);
  if (!shared) {
    const alerts = createTlsAlerts();
    const connect = withTlsAlerts(buildConnector(connectOptions), alerts);
    shared = { agent: new Agent({ connect }), alerts };
    agents.set(key, shared);
  }
  return shared;
}

const ALERT_TTL_MS = 10_000;
const MAX_ALERTS = 64;

interface TlsAlerts {
  record(endpoint: string, error: Error): void;
  /** The alert received on this local endpoint lately, once. */
  take(endpoint: string): Error | undefined;
}

function createTlsAlerts(): TlsAlerts {
  const alerts = new Map<string, { error: Error; at: number }>();
  return {
    record(endpoint, error) {
      alerts.delete(endpoint);
      alerts.set(endpoint, { error, at: Date.now() });
      if (alerts.size > MAX_ALERTS) alerts.delete(alerts.keys().next().value as string);
    },
    take(endpoint) {
      const found = alerts.get(endpoint);
      alerts.delete(endpoint);
      return found && Date.now() - found.at < ALERT_TTL_MS ? found.error : undefined;
    },
  };
}

/**
 * With TLS 1.3 a server that refuses the client (no or an untrusted client certificate) sends its
 * alert after the client has finished the handshake; undici then reports only "other side closed"
 * (UND_ERR_SOCKET) for the request. The connector keeps the TLS error the socket did receive, by
 * local address and port, so the request's failure can name the real cause.
 */
function withTlsAlerts(connector: buildConnector.connector, alerts: TlsAlerts): buildConnector.connector {
  return (options, callback) =>
    connector(options, (...args) => {
      const socket = args[1];
      if (socket) {
        const endpoint = `${socket.localAddress}:${socket.localPort}`;
        socket.on('error', (error: Error) => {
          const code = (error as { code?: unknown }).code;
          if (typeof code === 'string' && code.startsWith('ERR_SSL_')) alerts.record(endpoint, error);
        });
      }
      callback(...args);
    });
}

function fetchWith({ agent, alerts }: SharedAgent): typeof fetch {
  const call = async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    try {
      return await undiciFetch(input as UndiciRequestInfo, {
        ...(init as unknown as UndiciRequestInit),
        dispatcher: agent,
      });
    } catch (error) {
      const cause = (
        error as { cause?: { code?: unknown; socket?: { localAddress?: string; localPort?: number } } }
      ).cause;
      const alert =
        cause?.code === 'UND_ERR_SOCKET' && cause.socket
          ? alerts.take(`${cause.socket.localAddress}:${cause.socket.localPort}`)
          : undefined;
      if (alert) throw new TypeError('fetch failed', { cause: alert });
      throw error;
    }
  };
  return call as unknown as typeof fetch;
}

function errnoCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}

interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
  passphrase?: string;
}

/** Reads the PEM files; every unreadable file is one issue naming the field and the path. */
function loadMaterial(tls: TlsConfig, issues: ConfigIssue[]): TlsMaterial {
  const read = (field: string, path: string | undefined): string | undefined => {
    if (path === undefined) return undefined;
    const absolute = resolve(path);
    try {
      return readFileSync(absolute, 'utf8');
    } catch (error) {
      issues.push({ path: `tls.${field}`, message: `cannot read ${absolute} (${errnoCode(error)})` });
      return undefined;
    }
  };
  const material: TlsMaterial = {};
  const ca = tls.ca ?? read('ca_file', tls.ca_file);
  const cert = tls.cert ?? read('cert_file', tls.cert_file);
  const key = tls.key ?? read('key_file', tls.key_file);
  if (ca !== undefined) material.ca = ca;
  if (cert !== undefined) material.cert = cert;
  if (key !== undefined) material.key = key;
  if (tls.passphrase !== undefined) material.passphrase = tls.passphrase;
  return material;
}

/** What OpenSSL's complaint about a certificate or key means for the user. */
function materialProblem(error: unknown, what: 'certificate' | 'key'): string {
  const code = errnoCode(error);
  const text = error instanceof Error ? error.message : String(error);
  if (code === 'ERR_OSSL_BAD_DECRYPT' || /bad decrypt/i.test(text)) {
    return 'cannot decrypt the private key: tls.passphrase is wrong or missing';
  }
  if (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' || /key values mismatch/i.test(text)) {
    return 'the private key does not belong to the client certificate';
  }
  return `not a ${what === 'key' ? 'private key' : 'certificate'} in PEM form (${opensslReason(text)})`;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function caProblem(pem: string): string | undefined {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return 'no PEM certificate (-----BEGIN CERTIFICATE-----) in it';
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      const reason = opensslReason(error instanceof Error ? error.message : String(error));
      return `certificate ${i + 1} in it is not valid (${reason})`;
    }
  }
  return undefined;
}

/**
 * Builds the secure context once, so a bad file, a wrong passphrase or a key that does not match
 * its certificate is a ConfigError when the source is created, not a failure on every connection.
 */
function secureContext(
  tls: TlsConfig,
  redactor: Redactor,
): { context: SecureContext; material: TlsMaterial } {
  const issues: ConfigIssue[] = [];
  const material = loadMaterial(tls, issues);
  if (material.key !== undefined) redactor.add(material.key);
  if (material.passphrase !== undefined) redactor.add(material.passphrase);
  if (material.ca !== undefined) {
    // createSecureContext skips text that is not a certificate: a wrong file would silently trust nothing.
    const problem = caProblem(material.ca);
    if (problem) issues.push({ path: tls.ca_file ? 'tls.ca_file' : 'tls.ca', message: problem });
  }
  if (issues.length === 0 && material.cert !== undefined) {
    try {
      createSecureContext({ cert: material.cert });
    } catch (error) {
      const path = tls.cert_file ? 'tls.cert_file' : 'tls.cert';
      issues.push({ path, message: materialProblem(error, 'certificate') });
    }
  }
  let context: SecureContext | undefined;
  if (issues.length === 0) {
    try {
      context = createSecureContext(material);
    } catch (error) {
      // The CA and the certificate load on their own, so what is left is the key (or the pair).
      const field = tls.key_file ? 'tls.key_file' : 'tls.key';
      issues.push({ path: field, message: redactor.redact(materialProblem(error, 'key')) });
    }
  }
  if (!context) throw new ConfigError(issues, { context: 'invalid config for source "rest"' });
  return { context, material };
}

/** The fetch the source sends every request with, and whether verification is off. */
export function createTransport(tls: TlsConfig | undefined, redactor: Redactor): Transport {
  if (tls === undefined) return { fetch: fetchWith(sharedAgent('', {})), insecure: false };
  const { context, material } = secureContext(tls, redactor);
  const connect = {
    secureContext: context,
    rejectUnauthorized: tls.reject_unauthorized,
    ...(tls.server_name === undefined ? {} : { servername: tls.server_name }),
  };
  // The settings, not the file names: two sources reading the same files share an agent, and a
  // file that changed between two creations gets a new one.
  const key = createHash('sha256')
    .update(
      JSON.stringify([
        material.ca ?? null,
        material.cert ?? null,
        material.key ?? null,
        material.passphrase ?? null,
        tls.reject_unauthorized,
        tls.server_name ?? null,
      ]),
    )
    .digest('hex');
  return {
    fetch: fetchWith(sharedAgent(key, connect)),
    insecure: !tls.reject_unauthorized,
  };
}

/**
 * The reason of an OpenSSL error string (`80CC…:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13
 * alert certificate required:../deps/openssl/…:1601:SSL alert number 116`), or the first line of
 * any other message.
 */
function opensslReason(message: string): string {
  const match = /^(?:[0-9A-F]+:)?error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)/.exec(message);
  return (match?.[1] ?? message.split('\n')[0] ?? '').trim();
}

const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'HOSTNAME_MISMATCH',
]);
const DATE_CODES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERROR_IN_CERT_NOT_BEFORE_FIELD']);

/**
 * A TLS failure explained: what went wrong with `hostPort` and which setting fixes it; undefined
 * for anything that is not a TLS problem. These are never retried: the next attempt would fail the
 * same way.
 */
export function describeTlsFailure(code: string, detail: string, hostPort: string): string | undefined {
  const reason = opensslReason(detail);
  const why = `${code}${reason ? `: ${reason}` : ''}`;
  if (CERTIFICATE_CODES.has(code)) {
    return (
      `the TLS certificate of ${hostPort} could not be verified (${why}); if the server uses a private ` +
      'or self-signed CA, set tls.ca_file to that CA certificate (PEM)'
    );
  }
  if (DATE_CODES.has(code)) {
    return (
      `the TLS certificate of ${hostPort} could not be verified (${why}); check the certificate's ` +
      "validity dates and this machine's clock"
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return (
      `the TLS certificate of ${hostPort} could not be verified: it is not issued for this host ` +
      `(${why}); use a host name the certificate holds, or set tls.server_name to one`
    );
  }
  if (/^ERR_SSL_.*ALERT/.test(code)) {
    return (
      `the server at ${hostPort} refused the TLS handshake (${why}); if it requires a client ` +
      'certificate, set tls.cert_file and tls.key_file (and check that it trusts the one configured)'
    );
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return `the TLS handshake with ${hostPort} failed (${why}); check that the URL's scheme and port are right`;
  }
  return undefined;
}
