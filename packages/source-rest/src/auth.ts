/**
 * Auth: static headers/params, and tokens fetched from an endpoint (OAuth2 client credentials or any
 * token URL), cached and refreshed once `expiry_ratio` of their lifetime has passed.
 */
import { AuthError, type Redactor } from '@faucet/core';
import type { AuthConfig } from './config.js';
import { first } from './jsonpath.js';
import { checkStatus, displayUrl, type HttpRequest, parseJson, type SendOptions, send } from './request.js';

export interface Authenticator {
  /** Adds credentials to a request (headers or query params). */
  apply(request: HttpRequest, signal: AbortSignal): Promise<void>;
  /** Forget a cached token (after a 401); true when there was one to forget. */
  invalidate(): boolean;
  /** Query params whose values are secret. */
  readonly secretParams: readonly string[];
}

export interface AuthEnv {
  redactor: Redactor;
  now: () => number;
  timeoutMs: number;
  fetch?: typeof fetch;
}

export function createAuthenticator(auth: AuthConfig, env: AuthEnv): Authenticator {
  switch (auth.type) {
    case 'none':
      return { apply: async () => {}, invalidate: () => false, secretParams: [] };
    case 'bearer':
      return staticHeader('authorization', `Bearer ${auth.token}`);
    case 'basic':
      return staticHeader(
        'authorization',
        `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
      );
    case 'api_key':
      if (auth.header !== undefined) return staticHeader(auth.header, auth.value);
      return {
        apply: async (request) => {
          request.url.searchParams.set(auth.query_param ?? '', auth.value);
        },
        invalidate: () => false,
        secretParams: [auth.query_param ?? ''],
      };
    case 'oauth2': {
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: auth.client_id,
        client_secret: auth.client_secret,
      });
      if (auth.scopes.length > 0) form.set('scope', auth.scopes.join(' '));
      return tokenAuth(env, {
        request: () => ({
          method: 'POST',
          url: new URL(auth.token_url),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          raw: form.toString(),
        }),
        tokenPath: auth.token_path,
        expiryPath: auth.expiry_path,
        expiryRatio: auth.expiry_ratio,
        header: 'authorization',
        prefix: 'Bearer ',
      });
    }
    case 'token_endpoint':
      return tokenAuth(env, {
        request: () => ({
          method: auth.method,
          url: new URL(auth.url),
          headers: { ...auth.headers },
          ...(auth.body === undefined ? {} : { body: auth.body }),
        }),
        tokenPath: auth.token_path,
        expiryPath: auth.expiry_path,
        expiryRatio: auth.expiry_ratio,
        header: auth.header,
        prefix: auth.prefix,
      });
  }
}

function staticHeader(name: string, value: string): Authenticator {
  return {
    apply: async (request) => {
      request.headers[name] = value;
    },
    invalidate: () => false,
    secretParams: [],
  };
}

interface TokenSpec {
  request: () => HttpRequest & { raw?: string };
  tokenPath: string;
  expiryPath: string | undefined;
  expiryRatio: number;
  header: string;
  prefix: string;
}

function tokenAuth(env: AuthEnv, spec: TokenSpec): Authenticator {
  let cached: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function fetchToken(signal: AbortSignal): Promise<string> {
    const request = spec.request();
    const where = `token request ${request.method} ${displayUrl(request.url, env.redactor, [])}`;
    const sendOptions: SendOptions = {
      timeoutMs: env.timeoutMs,
      signal,
      redactor: env.redactor,
      secretParams: [],
      ...(env.fetch ? { fetch: env.fetch } : {}),
    };
    const res = await sendRaw(request, sendOptions);
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      throw new AuthError(`${where}: credentials refused (HTTP ${res.status})`, { connector: 'rest' });
    }
    checkStatus(request, res, { ...sendOptions, parseRetryAfter: () => undefined });
    const body = parseJson(res, where, env.redactor);
    const token = first(body, spec.tokenPath);
    if (typeof token !== 'string' || token === '') {
      throw new AuthError(`${where}: no token at ${spec.tokenPath} in the response`, { connector: 'rest' });
    }
    env.redactor.add(token);
    const lifetime = spec.expiryPath === undefined ? undefined : Number(first(body, spec.expiryPath));
    const refreshAt =
      lifetime !== undefined && Number.isFinite(lifetime) && lifetime > 0
        ? env.now() + lifetime * 1000 * spec.expiryRatio
        : Number.POSITIVE_INFINITY;
    cached = { token, refreshAt };
    return token;
  }

  return {
    async apply(request, signal) {
      let token: string;
      if (cached && env.now() < cached.refreshAt) token = cached.token;
      else {
        pending ??= fetchToken(signal).finally(() => {
          pending = undefined;
        });
        token = await pending;
      }
      request.headers[spec.header] = `${spec.prefix}${token}`;
    },
    invalidate() {
      const had = cached !== undefined;
      cached = undefined;
      return had;
    },
    secretParams: [],
  };
}

async function sendRaw(request: HttpRequest & { raw?: string }, options: SendOptions) {
  if (request.raw === undefined) return send(request, options);
  const raw = request.raw;
  const rawFetch: typeof fetch = (input, init) =>
    (options.fetch ?? fetch)(input, { ...init, body: raw, method: 'POST' });
  return send(
    { method: request.method, url: request.url, headers: request.headers },
    {
      ...options,
      fetch: rawFetch,
    },
  );
}
