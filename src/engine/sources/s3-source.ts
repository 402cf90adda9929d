// ByteSource over one S3 object: HEAD for the length and ETag, ranged GETs (If-Match the ETag,
// so an object replaced mid-read is an error rather than a mix of two versions), a coalescing
// readMany (read-plan.ts, as HttpSource), retries with backoff (s3-client.ts) and, when a
// node-local cache is configured, every range read once from the network (range-cache.ts).
import { ClosedError, ObjectStoreError } from '../../errors.ts';
import type { ByteSource, ReadCounter } from './byte-source.ts';
import { planReads, sliceReads } from './read-plan.ts';
import type { ByteRange, ReadPlanOptions } from './read-plan.ts';
import { RangeCache, rangeCacheFromEnv } from './range-cache.ts';
import { ShortBodyError, describeS3Error, loadS3Sdk, parseS3Url, s3Client, s3Traffic, withRetries } from './s3-client.ts';
import type { S3Client, S3Location } from './s3-client.ts';

/** Options of {@link S3Source.open}. */
export interface S3SourceOptions {
  /** Node-local range cache (default: from PICPAC_CACHE_DIR / PICPAC_CACHE_LIMIT, else none). */
  cache?: RangeCache | null;
}

/**
 * A {@link ByteSource} over one S3 object (`s3://bucket/key`), by ranged GETs pinned to the
 * ETag seen at open, so an object replaced mid-read fails instead of mixing two versions.
 * Retries transient failures; with a {@link RangeCache}, each range is fetched once per node.
 * Needs the optional package `@aws-sdk/client-s3` (without it: ObjectStoreError, problem 'no-client').
 */
export class S3Source implements ByteSource {
  readonly name: string;
  /** Network traffic of this source (cache hits are not counted). */
  readonly counter: ReadCounter = { reads: 0, bytesRead: 0 };
  /** Reads served by the node-local cache. */
  cacheHits = 0;
  /** Opening a shard fetches 32 KiB of its tail: every rank opens every shard of a manifest. */
  readonly openTailBytes = 32 << 10;
  private readonly location: S3Location;
  private readonly client: S3Client;
  private readonly sdk: typeof import('@aws-sdk/client-s3');
  private readonly cache: RangeCache | undefined;
  private length = 0;
  private etag = '';
  private closed = false;

  private constructor(name: string, location: S3Location, client: S3Client, sdk: typeof import('@aws-sdk/client-s3'), cache: RangeCache | undefined) {
    this.name = name;
    this.location = location;
    this.client = client;
    this.sdk = sdk;
    this.cache = cache;
  }

  /** Open `s3://bucket/key` and learn its length (ObjectStoreError when missing or refused). */
  static async open(url: string, options?: S3SourceOptions): Promise<S3Source> {
    const location = parseS3Url(url);
    const [sdk, client] = await Promise.all([loadS3Sdk(), s3Client()]);
    const cache = options?.cache === null ? undefined : (options?.cache ?? rangeCacheFromEnv());
    const source = new S3Source(url, location, client, sdk, cache);
    await source.refresh();
    return source;
  }

  get byteLength(): number {
    return this.length;
  }

  /** The object's ETag as the last HEAD saw it (identifies this version in the cache). */
  get version(): string {
    return this.etag;
  }

  async refresh(): Promise<number> {
    this.checkOpen();
    const { Bucket, Key } = { Bucket: this.location.bucket, Key: this.location.key };
    try {
      const head = await withRetries(this.name, 'HEAD', () => this.client.send(new this.sdk.HeadObjectCommand({ Bucket, Key })));
      this.length = head.ContentLength ?? 0;
      this.etag = head.ETag ?? '';
    } catch (err) {
      if (err instanceof ObjectStoreError && err.problem === 'no-object') throw await this.whichIsMissing(err);
      if (err instanceof ObjectStoreError && err.problem === 'access-denied') throw await this.whyDenied(err);
      throw err;
    }
    return this.length;
  }

  async read(byteOffset: number, byteLength: number): Promise<Uint8Array> {
    this.checkOpen();
    const end = Math.min(this.length, byteOffset + byteLength);
    if (byteOffset >= end) return new Uint8Array(0);
    const cacheKey = this.cache ? { object: `${this.name}\n${this.etag}\n${this.length}`, byteOffset, byteLength: end - byteOffset } : undefined;
    if (this.cache && cacheKey) {
      const hit = await this.cache.get(cacheKey);
      if (hit) {
        this.cacheHits++;
        return hit;
      }
    }
    const bytes = await this.fetchRange(byteOffset, end);
    if (this.cache && cacheKey) await this.cache.put(cacheKey, bytes);
    return bytes;
  }

  /** Many ranges with as few GETs as the gap rule allows (cached ranges are not fetched). */
  async readMany(ranges: readonly ByteRange[], options?: ReadPlanOptions): Promise<Uint8Array[]> {
    this.checkOpen();
    if (this.cache) return Promise.all(ranges.map((r) => this.read(r.byteOffset, r.byteLength)));
    const plan = planReads(ranges, options);
    const bytes = await Promise.all(plan.map((r) => this.read(r.byteOffset, r.byteLength)));
    return sliceReads(ranges, plan, bytes);
  }

  /** Mark the source closed (reads then throw ClosedError); the S3 client is shared by the process and stays open. */
  async close(): Promise<void> {
    this.closed = true; // the client is shared by the process; nothing else to release
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError(`s3 source ${this.name}`);
  }

  private async fetchRange(byteOffset: number, end: number): Promise<Uint8Array> {
    const want = end - byteOffset;
    const bytes = await withRetries(this.name, `GET bytes=${byteOffset}-${end - 1}`, async () => {
      let res;
      try {
        res = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.location.bucket, Key: this.location.key, Range: `bytes=${byteOffset}-${end - 1}`, IfMatch: this.etag || undefined }));
      } catch (err) {
        if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412) {
          throw new ObjectStoreError('no-object', `${this.name} changed while being read (ETag is no longer ${this.etag}); reopen it`, { cause: err });
        }
        throw err;
      }
      const body = res.Body ? await res.Body.transformToByteArray() : new Uint8Array(0);
      if (body.length < want) throw new ShortBodyError(want, body.length);
      return body.length > want ? body.subarray(0, want) : body;
    });
    this.counter.reads++;
    this.counter.bytesRead += bytes.length;
    s3Traffic.bytesRead += bytes.length;
    return bytes;
  }

  /** A 403 on HEAD has no body to say why: a one-byte GET does (InvalidAccessKeyId, AccessDenied, ...). */
  private async whyDenied(err: ObjectStoreError): Promise<ObjectStoreError> {
    try {
      await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.location.bucket, Key: this.location.key, Range: 'bytes=0-0' }));
      return err;
    } catch (getErr) {
      const described = describeS3Error(getErr, this.name, 'HEAD');
      return described instanceof ObjectStoreError ? described : err;
    }
  }

  /** A 404 on HEAD: is the bucket missing, or only the object? */
  private async whichIsMissing(err: ObjectStoreError): Promise<ObjectStoreError> {
    try {
      await this.client.send(new this.sdk.HeadBucketCommand({ Bucket: this.location.bucket }));
      return err;
    } catch (bucketErr) {
      const status = (bucketErr as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return new ObjectStoreError('no-bucket', `${this.name}: bucket ${this.location.bucket} does not exist`, { cause: bucketErr });
      const described = describeS3Error(bucketErr, this.name, 'HEAD bucket');
      return described instanceof ObjectStoreError && described.problem !== 'unavailable' ? described : err;
    }
  }
}
