// s3:// end to end against a real S3 server (Ceph's RADOS Gateway, test/objectstore.ts): sharded
// round trip, stat/dump/stream --digest equal to the local copy, two ranks covering an epoch
// exactly once, the gateway going away in the middle of an epoch, bad credentials.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { ImageStream } from '../../src/augment/stream/stream.ts';
import { s3Traffic } from '../../src/engine/sources/s3-client.ts';
import { objectStore, type ObjectStore } from '../objectstore.ts';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import sharp from 'sharp';
import { cli, cliProcess, makeImageTree, tempDir } from './helpers.ts';

const SMALL = ['--resize_width', '32', '--resize_height', '32'];

let store: ObjectStore | undefined;
let skip: string | false = false;
let dir = '';
let cleanup: () => Promise<void> = async () => {};
let bucket = '';
let local = '';

before(async () => {
  const started = await objectStore();
  if (typeof started === 'string') {
    skip = started;
    return;
  }
  store = started;
  ({ dir, cleanup } = await tempDir('picpac-s3-'));
  await makeImageTree(path.join(dir, 'tree'));
  local = path.join(dir, 'tree.picpac');
  assert.equal((await cli('import', path.join(dir, 'tree'), local, '-q')).code, 0);
  bucket = await store.createBucket('cli');
});

after(async () => {
  await cleanup();
  await store?.close();
});

/** Lines of `dump` without the first (which names the file). */
async function dumpBody(db: string): Promise<string> {
  const r = await cli('dump', db);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((line) => !line.includes(db)).join('\n');
}

describe('s3:// against the RADOS Gateway', () => {
  test('a single file: stat, dump, verify and stream --digest equal the local copy', async (t) => {
    if (skip) return t.skip(skip);
    const url = `s3://${bucket}/single/tree.picpac`;
    const imported = await cli('convert', local, url, '--to', 'v2');
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(await dumpBody(url), await dumpBody(local));
    const statRemote = await cli('stat', url);
    const statLocal = await cli('stat', local);
    assert.equal(statRemote.code, 0, statRemote.stderr);
    assert.equal(statRemote.stdout.replace(url, 'X'), statLocal.stdout.replace(local, 'X'));
    assert.match((await cli('verify', url)).stdout, /^OK: 30 records/);
    const digest = async (db: string) => /sha256 (\w+)/.exec((await cli('stream', db, '--loop', '0', '-n', '100', '--threads', '2', '--digest', ...SMALL)).stdout)?.[1];
    const localDigest = await digest(local);
    assert.ok(localDigest);
    assert.equal(await digest(url), localDigest);
    // Refuses to overwrite an object, like a file.
    const again = await cli('convert', local, url, '--to', 'v2');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /refusing to overwrite existing file s3:\/\//);
  });

  test('shards to s3:// and back: dump identical, manifest read as one dataset [SHD-5]', async (t) => {
    if (skip) return t.skip(skip);
    const prefix = `s3://${bucket}/sharded/`;
    const sharded = await cli('shard', local, prefix, '--shard-size', '64KB', '-q');
    assert.equal(sharded.code, 0, sharded.stderr);
    const manifest = `${prefix}index.picpac.json`;
    assert.match(sharded.stdout, /wrote 30 records in (\d+) shards/);
    assert.ok(Number(/in (\d+) shards/.exec(sharded.stdout)![1]) > 1, 'more than one shard');
    assert.equal(await dumpBody(manifest), await dumpBody(local));
    assert.match((await cli('verify', manifest)).stdout, /^OK: 30 records/);
    const back = path.join(dir, 'back.picpac');
    assert.equal((await cli('convert', manifest, back)).code, 0);
    assert.equal(await dumpBody(back), await dumpBody(local));
    // import straight into shards on s3:// gives the same records as importing locally.
    const importPrefix = `s3://${bucket}/imported/`;
    const imported = await cli('import', path.join(dir, 'tree'), importPrefix, '--shard-size', '100KB', '-q');
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(await dumpBody(`${importPrefix}index.picpac.json`), await dumpBody(local));
    // The stream over the manifest: same digest as over the single local file (shuffle, K-fold, stratify).
    const params = ['--loop', '0', '-n', '100', '--digest', '--split', '3', '--split_fold', '1', '--stratify', '1', ...SMALL];
    const a = await cli('stream', manifest, ...params);
    const b = await cli('stream', local, ...params);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(/sha256 \w+/.exec(a.stdout)?.[0], /sha256 \w+/.exec(b.stdout)?.[0]);
  });

  test('two ranks (--rank 0/1 --world_size 2) stream every record of an epoch exactly once', async (t) => {
    if (skip) return t.skip(skip);
    const prefix = `s3://${bucket}/ranks/`;
    assert.equal((await cli('shard', local, prefix, '--shard-size', '64KB', '-q')).code, 0);
    const manifest = `${prefix}index.picpac.json`;
    const ranks = await Promise.all([
      cliProcess(['stream', manifest, '--loop', '0', '-n', '1000', '--rank', '0', '--world_size', '2', '--print-ids', ...SMALL]),
      // Rank 1 takes its share from torchrun's variables.
      cliProcess(['stream', manifest, '--loop', '0', '-n', '1000', '--print-ids', ...SMALL], { env: { RANK: '1', WORLD_SIZE: '2' } }),
    ]);
    const ids = ranks.map((r) => {
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim().split('\n').map(Number);
    });
    assert.equal(ids[0].length, 15);
    assert.equal(ids[1].length, 15);
    const all = [...ids[0], ...ids[1]].sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 30 }, (_, i) => i));
  });

  test('the gateway goes away in the middle of an epoch: the stream finishes with the same digest', async (t) => {
    if (skip) return t.skip(skip);
    // Records large enough that the stream reads them one by one (a small file is read whole at open).
    const big = path.join(dir, 'big');
    await mkdir(big, { recursive: true });
    // Noise does not compress: 12 PNGs of about 120 KB.
    await Promise.all(Array.from({ length: 12 }, (_, i) => sharp(randomBytes(200 * 200 * 3), { raw: { width: 200, height: 200, channels: 3 } }).png().toFile(path.join(big, `${i}.png`))));
    const bigLocal = path.join(dir, 'big.picpac');
    assert.equal((await cli('import', big, bigLocal, '-q')).code, 0);
    const prefix = `s3://${bucket}/restart/`;
    assert.equal((await cli('shard', bigLocal, prefix, '--shard-size', '1MB', '-q')).code, 0);
    const config = { loop: false, cache: false, preload: 1, threads: 0, resize_width: 32, resize_height: 32, batch: 3 };
    const digestOf = async (open: () => Promise<ImageStream>, midway?: (batch: number) => Promise<void>) => {
      const { createHash } = await import('node:crypto');
      const hash = createHash('sha256');
      const stream = await open();
      try {
        for (let n = 0; ; n++) {
          await midway?.(n);
          const batch = await stream.next();
          if (batch === null) break;
          hash.update(new Uint8Array(batch.images.buffer, batch.images.byteOffset, batch.images.byteLength));
        }
      } finally {
        await stream.close();
      }
      return hash.digest('hex');
    };
    const expected = await digestOf(() => ImageStream.open(bigLocal, config));
    const retriesBefore = s3Traffic.retries;
    // A loaded machine may take a while to bring radosgw back: allow more attempts here.
    process.env.PICPAC_S3_MAX_ATTEMPTS = '16';
    t.after(() => delete process.env.PICPAC_S3_MAX_ATTEMPTS);
    const remote = await digestOf(
      () => ImageStream.open(`${prefix}index.picpac.json`, config),
      async (n) => {
        if (n !== 1) return;
        await store!.stopGateway();
        // The next reads fail (connection refused/reset) and back off; the gateway returns meanwhile.
        setTimeout(() => void store!.startGateway(), 1500);
      },
    );
    assert.equal(remote, expected);
    assert.ok(s3Traffic.retries > retriesBefore, 'reads were retried while the gateway was away');
  });

  test('bad credentials, a missing bucket, a missing object: one clear line, exit 1', async (t) => {
    if (skip) return t.skip(skip);
    const url = `s3://${bucket}/single/tree.picpac`;
    const bad = await cliProcess(['stat', url], { env: { AWS_SECRET_ACCESS_KEY: 'not-the-secret' } });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /refused the credentials \(SignatureDoesNotMatch\)/);
    const unknown = await cliProcess(['stat', url], { env: { AWS_ACCESS_KEY_ID: 'nobody' } });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /refused the credentials \(InvalidAccessKeyId\)/);
    const noBucket = await cli('stat', `s3://no-such-bucket-${bucket}/x.picpac`);
    assert.equal(noBucket.code, 1);
    assert.match(noBucket.stderr, /bucket no-such-bucket-\S+ does not exist/);
    const noObject = await cli('dump', `s3://${bucket}/nothing/here.picpac`);
    assert.equal(noObject.code, 1);
    assert.match(noObject.stderr, /s3:\/\/\S+here.picpac: no such object/);
    const appendRemote = await cli('import', path.join(dir, 'tree'), url, '--append');
    assert.equal(appendRemote.code, 2);
    assert.match(appendRemote.stderr, /--append is not supported for s3:\/\//);
  });
});
