/**
 * What the AWS SDK throws, as FaucetErrors that name the endpoint, the bucket and the key, never a
 * credential: refused credentials -> AuthError; an unreachable endpoint -> ConnectionError
 * (retryable); throttling and 5xx -> the package's own error, retryable; a missing bucket -> the
 * package's own error, not retryable, saying so.
 */
import {
  AuthError,
  ConnectionError,
  type FaucetError,
  type FaucetErrorOptions,
  isFaucetError,
} from '@faucet/core';

export const CONNECTOR = 's3';

const AUTH_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'CredentialsProviderError',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'TimeoutError',
  'RequestTimeout',
]);

const RETRYABLE_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'InternalError',
  'ServiceUnavailable',
]);

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  Code?: string;
}

/** The S3 error code (`NoSuchKey`, `AccessDenied`, …) or errno (`ECONNREFUSED`) of an SDK error. */
export function s3ErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as SdkError;
  if (typeof e.Code === 'string') return e.Code;
  if (typeof e.code === 'string') return e.code;
  if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
  return undefined;
}

export function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return (error as SdkError).$metadata?.httpStatusCode;
}

export function isNotFound(error: unknown): boolean {
  const code = s3ErrorCode(error);
  return (
    code === 'NoSuchKey' || code === 'NotFound' || (httpStatus(error) === 404 && code !== 'NoSuchBucket')
  );
}

export function isPreconditionFailed(error: unknown): boolean {
  const code = s3ErrorCode(error);
  return code === 'PreconditionFailed' || httpStatus(error) === 412;
}

export interface S3ErrorMapping {
  /** `host:port` of the endpoint. */
  endpoint: string;
  /** What was being done, with the object: `reading s3://b/k`, `listing s3://b/prefix`. */
  action: string;
  bucket: string;
  /** The package's own error for anything else: SourceError or SinkError. */
  failure: (message: string, options: FaucetErrorOptions) => FaucetError;
}

export function mapS3Error(error: unknown, mapping: S3ErrorMapping): FaucetError {
  if (isFaucetError(error)) return error;
  const { endpoint, action, bucket } = mapping;
  const code = s3ErrorCode(error) ?? 'unknown error';
  const status = httpStatus(error);
  const options = { cause: error, connector: CONNECTOR };
  const what = status === undefined ? code : `${code}, HTTP ${status}`;
  if (AUTH_CODES.has(code) || status === 403) {
    const hint =
      code === 'CredentialsProviderError'
        ? 'no AWS credentials were found: set access_key_id and secret_access_key, or configure the AWS credential chain'
        : 'check access_key_id / secret_access_key (or the AWS credential chain) and the bucket policy';
    return new AuthError(`${action} at ${endpoint}: access denied (${what}); ${hint}`, options);
  }
  if (code === 'NoSuchBucket') {
    return mapping.failure(`${action} at ${endpoint}: bucket "${bucket}" does not exist (NoSuchBucket)`, {
      ...options,
      retryable: false,
    });
  }
  if (NETWORK_CODES.has(code)) {
    return new ConnectionError(`${action}: cannot reach ${endpoint} (${code})`, options);
  }
  const retryable = RETRYABLE_CODES.has(code) || (status !== undefined && status >= 500);
  return mapping.failure(`${action} at ${endpoint}: ${what}`, { ...options, retryable });
}
