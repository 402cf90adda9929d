// The node-local range cache: entries shared by instances (processes), exact-size checks,
// LRU eviction under the limit, and the environment configuration the CLI uses.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { RangeCache, rangeCacheFromEnv } from '../../src/engine/sources/range-cache.ts';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'picpac-range-cache-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const key = (byteOffset: number, byteLength: number, object = 's3://b/k\netag\n1000') => ({ object, byteOffset, byteLength });
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

async function cachedFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const object of await readdir(dir)) for (const name of await readdir(path.join(dir, object))) out.push(path.join(dir, object, name));
  return out;
}

test('an entry written by one instance is read by another (another process of the node)', () =>
  withDir(async (dir) => {
    const a = new RangeCache(dir, 1 << 20);
    const b = new RangeCache(dir, 1 << 20);
    assert.equal(await b.get(key(10, 5)), undefined);
    await a.put(key(10, 5), bytes(5, 7));
    assert.deepEqual(await b.get(key(10, 5)), bytes(5, 7));
    // Another range, another version of the object: misses.
    assert.equal(await b.get(key(10, 6)), undefined);
    assert.equal(await b.get(key(10, 5, 's3://b/k\nother-etag\n1000')), undefined);
    assert.deepEqual(b.stats, { hits: 1, misses: 3, bytesWritten: 0, evictedFiles: 0 });
    // No temporary files left behind.
    assert.deepEqual((await cachedFiles(dir)).map((f) => path.basename(f)), ['10-5']);
  }));

test('a file of the wrong size (damaged, foreign) is a miss, and a put replaces it', () =>
  withDir(async (dir) => {
    const cache = new RangeCache(dir, 1 << 20);
    await cache.put(key(0, 4), bytes(4, 1));
    const [file] = await cachedFiles(dir);
    await writeFile(file, bytes(3, 9));
    assert.equal(await cache.get(key(0, 4)), undefined);
    await cache.put(key(0, 4), bytes(4, 2));
    assert.deepEqual(await cache.get(key(0, 4)), bytes(4, 2));
  }));

test('concurrent puts of the same range from two instances leave one whole entry', () =>
  withDir(async (dir) => {
    const a = new RangeCache(dir, 1 << 24);
    const b = new RangeCache(dir, 1 << 24);
    const payload = bytes(1 << 16, 5);
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).put(key(0, payload.length), payload)));
    assert.deepEqual(await a.get(key(0, payload.length)), payload);
    assert.equal((await cachedFiles(dir)).length, 1);
  }));

test('over its limit the cache evicts least recently used entries first', () =>
  withDir(async (dir) => {
    const cache = new RangeCache(dir, 10_000);
    for (let i = 0; i < 8; i++) await cache.put(key(i * 1000, 1000), bytes(1000, i));
    // Make the ages explicit (mtime is the LRU clock): entry i used at time i, entry 0 just now.
    const files = await cachedFiles(dir);
    for (const f of files) {
      const i = Number(path.basename(f).split('-')[0]) / 1000;
      const t = new Date(Date.now() - (100 - i) * 1000);
      await utimes(f, t, t);
    }
    assert.ok(await cache.get(key(0, 1000)), 'entry 0 is a hit (and becomes the most recent)');
    for (let i = 8; i < 12; i++) await cache.put(key(i * 1000, 1000), bytes(1000, i));
    await cache.scanAndEvict();
    const left = (await cachedFiles(dir)).map((f) => Number(path.basename(f).split('-')[0]) / 1000).sort((x, y) => x - y);
    let total = 0;
    for (const f of await cachedFiles(dir)) total += (await stat(f)).size;
    assert.ok(total <= 10_000, `total ${total} within the limit`);
    assert.ok(left.includes(0), 'the recently used entry survives');
    assert.ok(!left.includes(1) && !left.includes(2), 'the oldest entries went first');
    assert.ok(cache.stats.evictedFiles >= 2);
  }));

test('an entry larger than the whole limit is not kept', () =>
  withDir(async (dir) => {
    const cache = new RangeCache(dir, 100);
    await cache.put(key(0, 200), bytes(200, 1));
    assert.equal(await cache.get(key(0, 200)), undefined);
  }));

test('PICPAC_CACHE_DIR / PICPAC_CACHE_LIMIT configure the shared instance; a bad limit is a TypeError', () => {
  assert.equal(rangeCacheFromEnv({}), undefined);
  const cache = rangeCacheFromEnv({ PICPAC_CACHE_DIR: '/tmp/x-cache', PICPAC_CACHE_LIMIT: '2GB' });
  assert.equal(cache?.limitBytes, 2e9);
  assert.equal(rangeCacheFromEnv({ PICPAC_CACHE_DIR: '/tmp/x-cache', PICPAC_CACHE_LIMIT: '2GB' }), cache, 'one instance per configuration');
  assert.equal(rangeCacheFromEnv({ PICPAC_CACHE_DIR: '/tmp/x-cache' })?.limitBytes, 20e9, 'default 20GB');
  assert.throws(() => rangeCacheFromEnv({ PICPAC_CACHE_DIR: '/tmp/x-cache', PICPAC_CACHE_LIMIT: 'lots' }), TypeError);
});
