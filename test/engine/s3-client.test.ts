// s3:// URL parsing, which failures are retried, and the typed errors of the ones that are not
// (no server needed: errors shaped as the AWS SDK v3 throws them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ObjectStoreError } from '../../src/errors.ts';
import { describeS3Error, isRetryable, parseS3Url, withRetries } from '../../src/engine/sources/s3-client.ts';

const sdkError = (name: string, status?: number, extra: object = {}) => Object.assign(new Error(`${name} message`), { name, $metadata: { httpStatusCode: status }, ...extra });

test('s3:// URLs: bucket and key (with slashes), refused otherwise', () => {
  assert.deepEqual(parseS3Url('s3://bucket/a/b/c.picpac'), { bucket: 'bucket', key: 'a/b/c.picpac' });
  assert.deepEqual(parseS3Url('s3://bucket'), { bucket: 'bucket', key: '' });
  assert.throws(() => parseS3Url('s3:///key'), TypeError);
  assert.throws(() => parseS3Url('http://bucket/key'), TypeError);
});

test('retried: 5xx, 429, SlowDown, connection resets and refusals, short bodies', () => {
  assert.ok(isRetryable(sdkError('InternalError', 500)));
  assert.ok(isRetryable(sdkError('ServiceUnavailable', 503)));
  assert.ok(isRetryable(sdkError('SlowDown', 503)));
  assert.ok(isRetryable(sdkError('SlowDown')));
  assert.ok(isRetryable(sdkError('TooManyRequests', 429)));
  assert.ok(isRetryable(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })));
  assert.ok(isRetryable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })));
  assert.ok(isRetryable(new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'EPIPE' }) })));
  assert.ok(isRetryable(sdkError('ShortBody')));
});

test('not retried: bad credentials, missing bucket or object, access denied', () => {
  for (const [name, status] of [['InvalidAccessKeyId', 403], ['SignatureDoesNotMatch', 403], ['NoSuchBucket', 404], ['NoSuchKey', 404], ['NotFound', 404], ['AccessDenied', 403]] as const) {
    assert.equal(isRetryable(sdkError(name, status)), false, name);
  }
});

test('typed errors say what is wrong and what to do', () => {
  const loc = 's3://b/k.picpac';
  const check = (err: unknown, problem: string, pattern: RegExp) => {
    const e = describeS3Error(err, loc, 'GET');
    assert.ok(e instanceof ObjectStoreError);
    assert.equal(e.problem, problem);
    assert.equal(e.code, 'IO');
    assert.match(e.message, pattern);
    assert.match(e.message, /s3:\/\/b\/k\.picpac/);
  };
  check(sdkError('InvalidAccessKeyId', 403), 'credentials', /refused the credentials \(InvalidAccessKeyId\).*AWS_ACCESS_KEY_ID/);
  check(sdkError('CredentialsProviderError'), 'credentials', /no AWS credentials found/);
  check(sdkError('NoSuchBucket', 404), 'no-bucket', /bucket b does not exist/);
  check(sdkError('NoSuchKey', 404), 'no-object', /no such object/);
  check(sdkError('AccessDenied', 403), 'access-denied', /access denied/);
  check(new Error('Region is missing'), 'region', /set AWS_REGION/);
  check(sdkError('Weird', 400), 'unavailable', /Weird/);
});

test('withRetries: transient failures are retried until success; others fail at once; attempts are bounded', async () => {
  const policy = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 };
  let calls = 0;
  const value = await withRetries('s3://b/k', 'GET', async () => {
    if (++calls < 3) throw sdkError('SlowDown', 503);
    return 'bytes';
  }, policy);
  assert.equal(value, 'bytes');
  assert.equal(calls, 3);

  calls = 0;
  await assert.rejects(withRetries('s3://b/k', 'GET', async () => {
    calls++;
    throw sdkError('NoSuchKey', 404);
  }, policy), (e: unknown) => e instanceof ObjectStoreError && e.problem === 'no-object');
  assert.equal(calls, 1);

  calls = 0;
  await assert.rejects(withRetries('s3://b/k', 'GET', async () => {
    calls++;
    throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  }, policy), /gave up after 4 attempts/);
  assert.equal(calls, 4);
});
