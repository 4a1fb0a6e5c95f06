/**
 * The connection settings every S3 package shares, and the client they make. Credentials: explicit
 * `access_key_id` + `secret_access_key` (both secret-marked, with an optional `session_token`), or,
 * when left out, the AWS SDK's default chain (environment, shared config and credentials files, SSO,
 * container and instance roles). `endpoint_url` points at an S3-compatible server (MinIO, moto,
 * Ceph, R2); path-style addressing is then the default, because such servers rarely resolve
 * `bucket.host` names.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { secret } from '@faucet/core';
import { z } from 'zod';

export const s3ConnectionShape = {
  bucket: z
    .string()
    .min(3)
    .max(255)
    .regex(/^[A-Za-z0-9._-]+$/, 'a bucket name has only letters, digits, dots, hyphens and underscores')
    .describe('The bucket'),
  region: z
    .string()
    .min(1)
    .optional()
    .describe('AWS region; default: AWS_REGION / AWS_DEFAULT_REGION, else us-east-1'),
  endpoint_url: z
    .url()
    .optional()
    .describe('An S3-compatible endpoint such as http://127.0.0.1:9000; default: AWS S3 for the region'),
  force_path_style: z
    .boolean()
    .optional()
    .describe('Address buckets as endpoint/bucket/key; default: true with endpoint_url, false on AWS'),
  access_key_id: z
    .string()
    .min(1)
    .optional()
    .describe('Explicit credentials (with secret_access_key); default: the AWS credential chain'),
  secret_access_key: secret(z.string().min(1))
    .optional()
    .describe('Secret key for access_key_id (secret: never logged)'),
  session_token: secret(z.string().min(1))
    .optional()
    .describe('Session token of temporary credentials (secret)'),
  max_attempts: z
    .number()
    .int()
    .min(1)
    .max(20)
    .default(5)
    .describe('Attempts per S3 request (the SDK retries throttling, 5xx and network errors)'),
} as const;

export interface S3Connection {
  bucket: string;
  region?: string | undefined;
  endpoint_url?: string | undefined;
  force_path_style?: boolean | undefined;
  access_key_id?: string | undefined;
  secret_access_key?: string | undefined;
  session_token?: string | undefined;
  max_attempts: number;
}

/** `secret_access_key` without `access_key_id` (or the other way round) is a config mistake. */
export function credentialsIssue(
  config: Partial<S3Connection>,
): { path: string[]; message: string } | undefined {
  if ((config.access_key_id === undefined) === (config.secret_access_key === undefined)) return undefined;
  const missing = config.access_key_id === undefined ? 'access_key_id' : 'secret_access_key';
  return {
    path: [missing],
    message: 'set access_key_id and secret_access_key together, or neither (to use the AWS credential chain)',
  };
}

export function regionOf(config: Pick<S3Connection, 'region'>): string {
  return config.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

/** `host:port` of the endpoint, for messages (never credentials). */
export function endpointName(config: Pick<S3Connection, 'endpoint_url' | 'region'>): string {
  if (config.endpoint_url) {
    const url = new URL(config.endpoint_url);
    return url.host;
  }
  return `s3.${regionOf(config)}.amazonaws.com`;
}

const NODE_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * Make a client without the SDK's one-time `NodeVersionSupportWarning` on Node 20, unless the user
 * set AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED themselves (`false` keeps the warning). The
 * warning is about SDK releases after January 2027, which will need Node 22; faucet pins the SDK
 * exactly and moves it only together with its own `engines`, so on every S3 run it would only add a
 * multi-line stderr message that names nothing about this run. The variable is set just for the
 * constructor (where the SDK reads it) and removed again, so nothing else in the process sees it.
 */
function withoutNodeVersionWarning(make: () => S3Client): S3Client {
  if (process.env[NODE_WARNING_SWITCH] !== undefined) return make();
  process.env[NODE_WARNING_SWITCH] = 'true';
  try {
    return make();
  } finally {
    delete process.env[NODE_WARNING_SWITCH];
  }
}

export function createS3Client(config: S3Connection): S3Client {
  const options: S3ClientConfig = {
    region: regionOf(config),
    forcePathStyle: config.force_path_style ?? config.endpoint_url !== undefined,
    maxAttempts: config.max_attempts,
    // CRC32 of every request and response body costs CPU and not every S3-compatible server
    // supports it; TLS and Content-MD5/ETags already cover integrity here.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (config.endpoint_url) options.endpoint = config.endpoint_url;
  if (config.access_key_id && config.secret_access_key) {
    options.credentials = {
      accessKeyId: config.access_key_id,
      secretAccessKey: config.secret_access_key,
      ...(config.session_token ? { sessionToken: config.session_token } : {}),
    };
  }
  return withoutNodeVersionWarning(() => new S3Client(options));
}
