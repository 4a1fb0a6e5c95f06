/**
 * Credentials for the BigQuery client: Application Default Credentials, a service-account key (a file
 * or its JSON text), or none (emulators). Problems are reported before the first request, in words
 * that say how to fix them; a key's private parts are added to the redactor the moment they are read.
 */
import { readFile } from 'node:fs/promises';
import { AuthError, ConfigError, type Redactor } from '@faucet/core';
import { type AuthClient, GoogleAuth, JWT } from 'google-auth-library';
import type { AuthConfig } from './config.js';
import { CONNECTOR } from './errors.js';

export const BIGQUERY_SCOPE = 'https://www.googleapis.com/auth/bigquery';

const HOW_TO_PROVIDE =
  'provide credentials in one of these ways: set GOOGLE_APPLICATION_CREDENTIALS to the path of a ' +
  'service-account key file; run `gcloud auth application-default login`; run on Google Cloud with a ' +
  'service account attached; or set the sink config `auth: {type: service_account_key_path, path: …}` ' +
  'or `auth: {type: service_account_key, json: …}`';

/** What the BigQuery constructor takes as `authClient`. */
export type ClientAuth = AuthClient;

interface ServiceAccountKey {
  type?: unknown;
  client_email?: unknown;
  private_key?: unknown;
  private_key_id?: unknown;
  universe_domain?: unknown;
}

/** Sends no credentials at all (an emulator wants none, and the metadata server is never probed). */
function noCredentials(): ClientAuth {
  const client = {
    getRequestHeaders: async () => new Headers(),
    getAccessToken: async () => ({ token: null }),
    request: async () => {
      throw new AuthError('bigquery sink: auth type none makes no authenticated requests', {
        connector: CONNECTOR,
      });
    },
    on: () => client,
  };
  return client as unknown as AuthClient;
}

/** A key's JSON text as a service-account key, or an AuthError that says what is wrong with it. */
function parseKey(text: string, where: string, redactor: Redactor): ServiceAccountKey {
  let key: unknown;
  try {
    key = JSON.parse(text);
  } catch {
    throw new AuthError(
      `bigquery sink: ${where} is not JSON; a service-account key is the JSON file created under ` +
        'IAM > Service accounts > Keys in the Google Cloud console',
      { connector: CONNECTOR },
    );
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key)) {
    throw new AuthError(`bigquery sink: ${where} is JSON but not an object; expected a service-account key`, {
      connector: CONNECTOR,
    });
  }
  const k = key as ServiceAccountKey;
  for (const part of [k.private_key, k.private_key_id]) if (typeof part === 'string') redactor.add(part);
  const missing = ['client_email', 'private_key'].filter(
    (f) => typeof k[f as keyof ServiceAccountKey] !== 'string',
  );
  if (k.type !== 'service_account' || missing.length > 0) {
    const kind = typeof k.type === 'string' ? `type "${k.type}"` : 'no type';
    throw new AuthError(
      `bigquery sink: ${where} is not a service-account key (${kind}` +
        `${missing.length > 0 ? `; missing ${missing.join(', ')}` : ''}); use a key of type "service_account", ` +
        'or auth: {type: application_default} for other kinds of credentials',
      { connector: CONNECTOR },
    );
  }
  return k;
}

/**
 * A JWT client that signs its own tokens with the key (Google's self-signed JWT with scope): no
 * round trip to a token endpoint, and the key is checked by signing once, here.
 */
async function keyClient(key: ServiceAccountKey, where: string, endpoint: string): Promise<ClientAuth> {
  const client = new JWT({
    email: key.client_email as string,
    key: key.private_key as string,
    ...(typeof key.private_key_id === 'string' ? { keyId: key.private_key_id } : {}),
    scopes: [BIGQUERY_SCOPE],
  });
  client.useJWTAccessWithScope = true;
  try {
    await client.getRequestHeaders(endpoint);
  } catch (error) {
    throw new AuthError(
      `bigquery sink: the private key of ${where} (client_email ${String(key.client_email)}) cannot sign a ` +
        `token: ${error instanceof Error ? error.message : String(error)}; create a new key for the service account`,
      { connector: CONNECTOR, cause: error },
    );
  }
  return client;
}

/** The `authClient` for the BigQuery client, resolved and checked; throws AuthError / ConfigError. */
export async function resolveAuth(
  auth: AuthConfig,
  endpoint: string,
  redactor: Redactor,
): Promise<ClientAuth> {
  switch (auth.type) {
    case 'none':
      return noCredentials();
    case 'service_account_key': {
      const where = 'the service-account key in auth.json';
      return keyClient(parseKey(auth.json, where, redactor), where, endpoint);
    }
    case 'service_account_key_path': {
      const where = `the key file ${auth.path}`;
      let text: string;
      try {
        text = await readFile(auth.path, 'utf8');
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        throw new ConfigError(
          `bigquery sink: cannot read ${where} (${typeof code === 'string' ? code : 'unreadable'}); check auth.path`,
          { cause: error },
        );
      }
      return keyClient(parseKey(text, where, redactor), where, endpoint);
    }
    case 'application_default': {
      const google = new GoogleAuth({ scopes: [BIGQUERY_SCOPE] });
      try {
        return await google.getClient();
      } catch (error) {
        throw new AuthError(
          `bigquery sink: no usable Google credentials (auth: application_default): ` +
            `${error instanceof Error ? error.message : String(error)}; ${HOW_TO_PROVIDE}`,
          { connector: CONNECTOR, cause: error },
        );
      }
    }
  }
}
