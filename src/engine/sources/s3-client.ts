// The S3 client behind every s3:// location: the AWS SDK v3 S3 client, an optional dependency
// loaded on first use (a clear error says how to install it). Credentials, region and endpoint
// come from the SDK's standard chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE,
// ~/.aws/config and ~/.aws/credentials, AWS_REGION, AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3.
// S3-compatible servers (Ceph RGW, MinIO) want path-style URLs: on whenever an endpoint is set
// in the environment, or with AWS_S3_FORCE_PATH_STYLE=true.
//
// Retries are ours, not the SDK's (maxAttempts 1), so that one policy covers the request AND
// reading its body: a connection reset halfway through a body is retried like a 503. Every
// retried request asks for the same bytes again, so a retry can neither drop nor repeat a sample.
import { ObjectStoreError } from '../../errors.ts';
import { invalidParameterError } from '../../errors.ts';

// Types of the SDK without a static import (the package is optional).
type S3Module = typeof import('@aws-sdk/client-s3');
export type S3Client = import('@aws-sdk/client-s3').S3Client;

/** An s3:// location split into bucket and key. */
export interface S3Location {
  bucket: string;
  key: string;
}

/** True when `location` starts with `s3://` (case-insensitive): it names an object store location, not a path. */
export function isS3Url(location: string): boolean {
  return /^s3:\/\//i.test(location);
}

/** `s3://bucket/key/with/slashes` → { bucket, key }. The key may be empty (a bucket, a prefix). */
export function parseS3Url(location: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(location);
  if (!m || m[1] === '') throw invalidParameterError('location', 'an s3://bucket/key URL', location);
  return { bucket: m[1], key: m[2] };
}

export function formatS3Url(location: S3Location): string {
  return `s3://${location.bucket}/${location.key}`;
}

let sdkPromise: Promise<S3Module> | undefined;

/** The SDK module, imported once; a missing package becomes an ObjectStoreError('no-client'). */
export function loadS3Sdk(): Promise<S3Module> {
  // The SDK warns once per process that its releases after January 2027 need Node 22; the CLI's
  // output is not the place for that (package.json pins the versions we test).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  sdkPromise ??= import('@aws-sdk/client-s3').catch((err: unknown) => {
    sdkPromise = undefined;
    throw new ObjectStoreError('no-client', 's3:// locations need the optional package @aws-sdk/client-s3: run `npm install @aws-sdk/client-s3 @aws-sdk/lib-storage`', { cause: err });
  });
  return sdkPromise;
}

let clientPromise: Promise<S3Client> | undefined;

/** One client per process (it keeps the connection pool), configured from the environment. */
export function s3Client(): Promise<S3Client> {
  clientPromise ??= loadS3Sdk().then((sdk) => {
    const env = process.env;
    const endpointSet = Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
    const pathStyle = /^(1|true|yes)$/i.test(env.AWS_S3_FORCE_PATH_STYLE ?? (endpointSet ? 'true' : 'false'));
    return new sdk.S3Client({ forcePathStyle: pathStyle, maxAttempts: 1 });
  });
  return clientPromise;
}

/** Network failures worth another attempt (Node and undici codes). */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE']);
/** S3 error names that mean "slow down / try again". */
const RETRY_NAMES = new Set(['SlowDown', 'ThrottlingException', 'Throttling', 'RequestTimeout', 'RequestTimeTooSkewed', 'InternalError', 'ServiceUnavailable', 'TimeoutError', 'ShortBody']);

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  cause?: unknown;
}

export function isRetryable(err: unknown): boolean {
  const e = err as SdkError;
  if (e === null || typeof e !== 'object') return false;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (e.name !== undefined && RETRY_NAMES.has(e.name)) return true;
  if (e.$retryable) return true;
  if (e.code !== undefined && TRANSIENT_CODES.has(e.code)) return true;
  if (/socket hang up|ECONNRESET|ECONNREFUSED|aborted/i.test(e.message ?? '')) return true;
  return e.cause !== undefined && e.cause !== err && isRetryable(e.cause);
}

/** What a non-retryable failure means, as a typed error naming the location. */
export function describeS3Error(err: unknown, location: string, what: string): Error {
  if (err instanceof ObjectStoreError) return err;
  const e = err as SdkError;
  const name = e?.name ?? '';
  const status = e?.$metadata?.httpStatusCode;
  const message = e?.message ?? String(err);
  if (name === 'CredentialsProviderError' || /credential/i.test(name)) {
    return new ObjectStoreError('credentials', `${what} ${location}: no AWS credentials found (${message}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE`, { cause: err });
  }
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'InvalidToken' || name === 'ExpiredToken') {
    return new ObjectStoreError('credentials', `${what} ${location}: the object store refused the credentials (${name}); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile`, { cause: err });
  }
  if (/Region is missing/i.test(message)) {
    return new ObjectStoreError('region', `${what} ${location}: no AWS region configured; set AWS_REGION (any value for S3-compatible servers, e.g. us-east-1)`, { cause: err });
  }
  if (name === 'NoSuchBucket') return new ObjectStoreError('no-bucket', `${what} ${location}: bucket ${parseS3Url(location).bucket} does not exist`, { cause: err });
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) return new ObjectStoreError('no-object', `${what} ${location}: no such object`, { cause: err });
  if (name === 'AccessDenied' || status === 403) {
    return new ObjectStoreError('access-denied', `${what} ${location}: access denied (${name || 'HTTP 403'}); check the credentials' permissions on the bucket`, { cause: err });
  }
  return new ObjectStoreError('unavailable', `${what} ${location} failed: ${name ? name + ': ' : ''}${message}`, { cause: err });
}

export interface RetryPolicy {
  /** Attempts in all (default PICPAC_S3_MAX_ATTEMPTS or 10). */
  maxAttempts: number;
  /** First backoff; doubles each attempt up to maxDelayMs, with full jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export function defaultRetryPolicy(): RetryPolicy {
  const fromEnv = Number(process.env.PICPAC_S3_MAX_ATTEMPTS);
  // 10 attempts, 100 ms doubling to 10 s, half jittered: 25-35 s in all, a gateway restart's worth.
  return { maxAttempts: Number.isInteger(fromEnv) && fromEnv >= 1 ? fromEnv : 10, baseDelayMs: 100, maxDelayMs: 10_000 };
}

/** Counts of one process's object-store traffic (benches and tests read it). */
export const s3Traffic = { requests: 0, retries: 0, bytesRead: 0, bytesWritten: 0 };

/**
 * Run `attempt` until it succeeds or fails for good: retryable failures (5xx, SlowDown,
 * connection resets, short bodies) wait and try again; the others become typed errors at once.
 */
export async function withRetries<T>(location: string, what: string, attempt: () => Promise<T>, policy: RetryPolicy = defaultRetryPolicy()): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      s3Traffic.requests++;
      return await attempt();
    } catch (err) {
      if (!isRetryable(err)) throw describeS3Error(err, location, what);
      if (n >= policy.maxAttempts) {
        const last = describeS3Error(err, location, what);
        last.message += ` (gave up after ${n} attempts)`;
        throw last;
      }
      s3Traffic.retries++;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
      await new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)));
    }
  }
}

/** An error that makes withRetries try again: the body ended before the bytes asked for. */
export class ShortBodyError extends Error {
  constructor(expected: number, actual: number) {
    super(`response body had ${actual} bytes, expected ${expected}`);
    this.name = 'ShortBody';
  }
}
