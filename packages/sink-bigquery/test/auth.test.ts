/**
 * Credentials: none found (a message that says how to provide them), a key file that is missing or
 * not JSON, a key that is not a service-account key or cannot sign, and a good key, whose requests
 * carry a JWT the fake server verifies with the key's public half. The private key never appears in
 * an error, whatever goes wrong.
 */
import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFaucetError, Redactor } from '@faucet/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBigQuerySink } from '../src/index.js';
import { FakeBigQuery } from './fake-bigquery.js';
import { fakeConfig, PROJECT, uniqueName } from './helpers.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const KEY = {
  type: 'service_account',
  project_id: PROJECT,
  private_key_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  private_key: PEM,
  client_email: 'faucet-test@test-project.iam.gserviceaccount.com',
  client_id: '123456789',
  token_uri: 'https://oauth2.googleapis.com/token',
};
/** A line from the middle of the PEM: any leak of the key shows it. */
const KEY_LINE = PEM.split('\n')[5] as string;

let fake: FakeBigQuery;
let dir: string;
let dataset: string;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  fake = await FakeBigQuery.start();
  dataset = uniqueName('auth');
  fake.createDataset(PROJECT, dataset);
  fake.createTable(PROJECT, dataset, 'events', [{ name: 'id', type: 'INTEGER' }]);
  dir = mkdtempSync(join(tmpdir(), 'faucet-bq-auth-'));
  // No Application Default Credentials anywhere, and no probe of the GCE metadata server.
  for (const name of [
    'GOOGLE_APPLICATION_CREDENTIALS',
    'HOME',
    'CLOUDSDK_CONFIG',
    'METADATA_SERVER_DETECTION',
  ]) {
    saved[name] = process.env[name];
  }
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  process.env.HOME = dir;
  process.env.CLOUDSDK_CONFIG = join(dir, 'gcloud');
  process.env.METADATA_SERVER_DETECTION = 'none';
});
afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = (auth: unknown) =>
  ({ ...fakeConfig(fake, dataset), auth }) as Parameters<typeof createBigQuerySink>[0];

async function failure(auth: unknown): Promise<Error> {
  const sink = createBigQuerySink(config(auth), { redactor: new Redactor() });
  try {
    await sink.check();
  } catch (error) {
    await sink.close();
    expect(isFaucetError(error)).toBe(true);
    const text = `${(error as Error).message} ${JSON.stringify(error)}`;
    expect(text).not.toContain(KEY_LINE);
    return error as Error;
  }
  await sink.close();
  throw new Error('check() succeeded');
}

describe('credentials', () => {
  it('none found: says how to provide them', async () => {
    const error = await failure({ type: 'application_default' });
    expect((error as { code?: string }).code).toBe('AUTH_FAILED');
    expect(error.message).toMatch(
      /^bigquery sink: no usable Google credentials \(auth: application_default\): /,
    );
    expect(error.message).toContain(
      'set GOOGLE_APPLICATION_CREDENTIALS to the path of a service-account key file',
    );
    expect(error.message).toContain('gcloud auth application-default login');
    expect(error.message).toContain('auth: {type: service_account_key_path, path: …}');
  });

  it('a key file that is missing, or not JSON', async () => {
    const missing = await failure({ type: 'service_account_key_path', path: join(dir, 'nope.json') });
    expect((missing as { code?: string }).code).toBe('CONFIG_INVALID');
    expect(missing.message).toContain(
      `cannot read the key file ${join(dir, 'nope.json')} (ENOENT); check auth.path`,
    );
    const file = join(dir, 'key.pem');
    writeFileSync(file, PEM);
    const notJson = await failure({ type: 'service_account_key_path', path: file });
    expect((notJson as { code?: string }).code).toBe('AUTH_FAILED');
    expect(notJson.message).toBe(
      `bigquery sink: the key file ${file} is not JSON; a service-account key is the JSON file created under ` +
        'IAM > Service accounts > Keys in the Google Cloud console',
    );
  });

  it('a key that is not a service-account key, or cannot sign', async () => {
    const user = await failure({
      type: 'service_account_key',
      json: JSON.stringify({
        type: 'authorized_user',
        refresh_token: 'r-1234567890',
        client_secret: 's-abcdef',
      }),
    });
    expect(user.message).toContain(
      'the service-account key in auth.json is not a service-account key (type "authorized_user"; missing client_email, private_key)',
    );
    // The right frame, but the body cut short: not a key any more.
    const broken = JSON.stringify({
      ...KEY,
      private_key: PEM.split('\n').slice(0, 8).join('\n') + '\n-----END PRIVATE KEY-----\n',
    });
    const sign = await failure({ type: 'service_account_key', json: broken });
    expect(sign.message).toMatch(
      /^bigquery sink: the private key of the service-account key in auth\.json \(client_email faucet-test@test-project\.iam\.gserviceaccount\.com\) cannot sign a token: /,
    );
  });

  it('a good key signs a JWT for every request, and the key is never in an error', async () => {
    const file = join(dir, 'key.json');
    writeFileSync(file, JSON.stringify(KEY));
    for (const auth of [
      { type: 'service_account_key_path', path: file },
      { type: 'service_account_key', json: JSON.stringify(KEY) },
    ]) {
      const before = fake.requests.length;
      const sink = createBigQuerySink(config(auth));
      await sink.check();
      expect(
        await sink.write([{ id: 1 }], { signal: new AbortController().signal, logger: console as never }),
      ).toEqual({});
      await sink.close();
      const seen = fake.requests.slice(before);
      expect(seen.length).toBeGreaterThan(0);
      for (const request of seen) {
        const [scheme, jwt] = (request.authorization ?? '').split(' ');
        expect(scheme).toBe('Bearer');
        const [header, payload, signature] = (jwt as string).split('.');
        const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString()) as {
          iss: string;
          scope: string;
        };
        expect(claims.iss).toBe(KEY.client_email);
        expect(claims.scope).toBe('https://www.googleapis.com/auth/bigquery');
        const signed = verify(
          'RSA-SHA256',
          Buffer.from(`${header}.${payload}`),
          publicKey,
          Buffer.from(signature as string, 'base64url'),
        );
        expect(signed).toBe(true);
      }
    }
    // A server error: the message names the problem, never the key.
    fake.fail({ status: 403, reason: 'accessDenied', message: 'Access Denied: Table test-project:x.events' });
    const sink = createBigQuerySink(config({ type: 'service_account_key', json: JSON.stringify(KEY) }));
    const error = await sink
      .write([{ id: 2 }], { signal: new AbortController().signal, logger: console as never })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    await sink.close();
    expect((error as { code?: string }).code).toBe('AUTH_FAILED');
    expect((error as Error).message).toMatch(
      /refused .*HTTP 403: Access Denied: Table test-project:x\.events \(accessDenied\); check the credentials/,
    );
    expect(JSON.stringify(error)).not.toContain(KEY_LINE);
  });
});
