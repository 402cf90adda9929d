// Whole-object operations on s3:// locations: does an object exist, write a small text object,
// upload a finished local file (multipart through @aws-sdk/lib-storage when installed, one
// PUT otherwise). An object appears only when its upload completes, so a reader never sees a
// half-written file; uploads are retried whole.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { ObjectStoreError } from '../../errors.ts';
import { loadS3Sdk, parseS3Url, s3Client, s3Traffic, withRetries } from './s3-client.ts';

/** Multipart part size: 16 MiB parts, 4 in flight. */
const PART_BYTES = 16 << 20;
const PARTS_IN_FLIGHT = 4;

/** True when the object exists; false when only the object is missing; throws for a missing bucket or refused credentials. */
export async function s3ObjectExists(url: string): Promise<boolean> {
  const { bucket, key } = parseS3Url(url);
  const [sdk, client] = await Promise.all([loadS3Sdk(), s3Client()]);
  try {
    await withRetries(url, 'HEAD', () => client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key })));
    return true;
  } catch (err) {
    if (!(err instanceof ObjectStoreError) || err.problem !== 'no-object') throw err;
  }
  // 404: is it the bucket? (HEAD has no body to say.)
  try {
    await withRetries(url, 'HEAD bucket', () => client.send(new sdk.HeadBucketCommand({ Bucket: bucket })));
  } catch (err) {
    if (err instanceof ObjectStoreError && err.problem === 'no-object') throw new ObjectStoreError('no-bucket', `${url}: bucket ${bucket} does not exist`, { cause: err });
    throw err;
  }
  return false;
}

export async function s3WriteText(url: string, text: string): Promise<void> {
  const { bucket, key } = parseS3Url(url);
  const [sdk, client] = await Promise.all([loadS3Sdk(), s3Client()]);
  await withRetries(url, 'PUT', () => client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: 'application/json' })));
  s3Traffic.bytesWritten += Buffer.byteLength(text);
}

/** Upload a finished local file to `url` (multipart for large files). */
export async function s3UploadFile(localPath: string, url: string): Promise<void> {
  const { bucket, key } = parseS3Url(url);
  const [sdk, client] = await Promise.all([loadS3Sdk(), s3Client()]);
  const byteLength = (await stat(localPath)).size;
  let storage: typeof import('@aws-sdk/lib-storage') | undefined;
  // Without @aws-sdk/lib-storage a file goes up in one PUT (S3 takes up to 5 GB that way).
  if (byteLength > PART_BYTES) storage = await import('@aws-sdk/lib-storage').catch(() => undefined);
  await withRetries(url, 'upload', async () => {
    if (!storage) {
      // One PUT of the bytes in memory (a stream body has no length the SDK can sign).
      await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(localPath) }));
      return;
    }
    const Body = createReadStream(localPath);
    try {
      const upload = new storage.Upload({ client, params: { Bucket: bucket, Key: key, Body }, partSize: PART_BYTES, queueSize: PARTS_IN_FLIGHT, leavePartsOnError: false });
      await upload.done();
    } finally {
      Body.destroy();
    }
  });
  s3Traffic.bytesWritten += byteLength;
}
