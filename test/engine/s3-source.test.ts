// S3Source against the RADOS Gateway: ranged reads equal the file's bytes, readMany coalesces,
// an object replaced under a reader is an error, and with the node-local cache the second
// epoch of a stream reads no remote byte.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { ImageStream } from '../../src/augment/stream/stream.ts';
import { ObjectStoreError } from '../../src/errors.ts';
import { RangeCache } from '../../src/engine/sources/range-cache.ts';
import { s3Traffic } from '../../src/engine/sources/s3-client.ts';
import { s3UploadFile } from '../../src/engine/sources/s3-objects.ts';
import { S3Source } from '../../src/engine/sources/s3-source.ts';
import { runCli } from '../../src/cli/main.ts';
import { objectStore, type ObjectStore } from '../objectstore.ts';
import { captureIo, makeImageTree } from '../cli/helpers.ts';

let store: ObjectStore | undefined;
let skip: string | false = false;
let dir = '';
let bucket = '';
const blob = randomBytes(300_000);

before(async () => {
  const started = await objectStore();
  if (typeof started === 'string') {
    skip = started;
    return;
  }
  store = started;
  dir = await mkdtemp(path.join(tmpdir(), 'picpac-s3-source-'));
  bucket = await store.createBucket('source');
  await writeFile(path.join(dir, 'blob'), blob);
  await s3UploadFile(path.join(dir, 'blob'), `s3://${bucket}/blob`);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  await store?.close();
});

test('ranged reads return the object bytes, short only at the end', async (t) => {
  if (skip) return t.skip(skip);
  const source = await S3Source.open(`s3://${bucket}/blob`, { cache: null });
  assert.equal(source.byteLength, blob.length);
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: blob.length + 10 }), fc.integer({ min: 0, max: 70_000 }), async (offset, length) => {
      const got = await source.read(offset, length);
      assert.deepEqual(Buffer.from(got), blob.subarray(offset, Math.min(blob.length, offset + length)));
    }),
    { numRuns: 25 },
  );
  await source.close();
});

test('a file larger than one part goes up by multipart upload and reads back whole', async (t) => {
  if (skip) return t.skip(skip);
  const big = randomBytes(17 << 20); // 16 MiB parts: two parts
  await writeFile(path.join(dir, 'big'), big);
  await s3UploadFile(path.join(dir, 'big'), `s3://${bucket}/big`);
  const source = await S3Source.open(`s3://${bucket}/big`, { cache: null });
  assert.equal(source.byteLength, big.length);
  assert.ok(/-2"$/.test(source.version), `a multipart ETag ends in -<parts>: ${source.version}`);
  for (const offset of [0, (16 << 20) - 5, big.length - 100]) {
    assert.deepEqual(Buffer.from(await source.read(offset, 100)), big.subarray(offset, offset + 100));
  }
});

test('readMany coalesces near ranges into one GET', async (t) => {
  if (skip) return t.skip(skip);
  const source = await S3Source.open(`s3://${bucket}/blob`, { cache: null });
  const ranges = [{ byteOffset: 1000, byteLength: 100 }, { byteOffset: 5000, byteLength: 10 }, { byteOffset: 200_000, byteLength: 50 }, { byteOffset: 1200, byteLength: 300 }];
  const got = await source.readMany(ranges);
  ranges.forEach((r, i) => assert.deepEqual(Buffer.from(got[i]), blob.subarray(r.byteOffset, r.byteOffset + r.byteLength)));
  assert.equal(source.counter.reads, 2, 'one GET for the three near ranges, one for the far one');
});

test('an object replaced under an open reader is an error, not a mix of versions', async (t) => {
  if (skip) return t.skip(skip);
  await writeFile(path.join(dir, 'v1'), randomBytes(1000));
  await s3UploadFile(path.join(dir, 'v1'), `s3://${bucket}/changing`);
  const source = await S3Source.open(`s3://${bucket}/changing`, { cache: null });
  await writeFile(path.join(dir, 'v2'), randomBytes(1000));
  await s3UploadFile(path.join(dir, 'v2'), `s3://${bucket}/changing`);
  await assert.rejects(source.read(0, 10), (e: unknown) => e instanceof ObjectStoreError && /changed while being read/.test(e.message));
});

test('missing object and missing bucket are told apart', async (t) => {
  if (skip) return t.skip(skip);
  await assert.rejects(S3Source.open(`s3://${bucket}/none`), (e: unknown) => e instanceof ObjectStoreError && e.problem === 'no-object');
  await assert.rejects(S3Source.open(`s3://${bucket}-missing/none`), (e: unknown) => e instanceof ObjectStoreError && e.problem === 'no-bucket');
});

test('with a node-local cache the second epoch reads no remote byte', async (t) => {
  if (skip) return t.skip(skip);
  await makeImageTree(path.join(dir, 'tree'));
  const url = `s3://${bucket}/tree.picpac`;
  assert.equal(await runCli(['import', path.join(dir, 'tree'), url, '-q'], captureIo()), 0);
  const cacheDir = path.join(dir, 'cache');
  const config = { loop: false, cache: false, threads: 0, resize_width: 16, resize_height: 16 };
  const epoch = async () => {
    // A new cache instance each epoch (as another process would have).
    const cache = new RangeCache(cacheDir, 50e6);
    const sourceStore = await import('../../src/engine/open-store.ts');
    const source = await S3Source.open(url, { cache });
    const s = await ImageStream.open(await sourceStore.openSourceStore(source), config);
    let samples = 0;
    for (let b = await s.next(); b !== null; b = await s.next()) samples += b.count;
    await s.close();
    await source.close();
    return { samples, cache };
  };
  const before1 = s3Traffic.bytesRead;
  const first = await epoch();
  const remoteFirst = s3Traffic.bytesRead - before1;
  assert.equal(first.samples, 30);
  assert.ok(remoteFirst > 0);
  const before2 = s3Traffic.bytesRead;
  const second = await epoch();
  assert.equal(second.samples, 30);
  assert.equal(s3Traffic.bytesRead - before2, 0, 'second epoch: 0 remote bytes');
  assert.equal(second.cache.stats.misses, 0);
  assert.ok(second.cache.stats.hits > 0);
});
