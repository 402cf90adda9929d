// openStore sniff-and-dispatch (2.0, 1.0, shard manifests, LMDB refusal) and ShardedStore.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openStore, sniffStoreKind } from '../../src/engine/open-store.ts';
import { ShardedStore, writeShardManifest } from '../../src/engine/sources/shards.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { FormatError } from '../../src/errors.ts';
import { expectedRecord, matchesExpected } from './fixtures/deterministic-records.ts';
import { tempDir } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir()));
after(() => cleanup());

async function writeShard(file: string, first: number, count: number): Promise<void> {
  const w = await PicpacWriter.create(file);
  for (let i = first; i < first + count; i++) void w.append({ ...expectedRecord(i), id: i });
  await w.close();
}

describe('openStore', () => {
  test('sniffStoreKind', () => {
    assert.equal(sniffStoreKind(Uint8Array.of(0x89, 0x50, 0x50, 0x43, 0x0d, 0x0a, 0x1a, 0x0a)), 'picpac-2');
    assert.equal(sniffStoreKind(Uint8Array.of(0xac, 0x59, 0x00, 0x01, 0, 0, 0, 0)), 'picpac-1');
    assert.equal(sniffStoreKind(Uint8Array.of(1, 2)), 'unknown');
  });

  const legacy = path.resolve(import.meta.dirname, '../../../shared/vectors/legacy-v1/v1-anno.db');
  test('a PicPac 1.0 file opens through the v1 reader', { skip: existsSync(legacy) ? false : '../shared/ absent' }, async () => {
    const store = await openStore(legacy);
    assert.equal(store.format, 'picpac-1');
    const json = JSON.parse(await readFile(`${legacy}.json`, 'utf8'));
    assert.equal(store.recordCount, json.records.length);
    const first = await store.get(0);
    assert.equal(first.id, json.records[0].id);
    await store.close();
  });

  // [SHD-1] a `.picpac.json` manifest describes the dataset; [SHD-2] record indices run across
  // the shards in manifest order.
  test('a shard manifest concatenates its shards; errors name the shard [SHD-1] [SHD-2]', async () => {
    const shards = [path.join(dir, 'part-0.picpac'), path.join(dir, 'part-1.picpac'), path.join(dir, 'part-2.picpac')];
    await writeShard(shards[0], 0, 5);
    await writeShard(shards[1], 5, 0);
    await writeShard(shards[2], 5, 7);
    const manifestPath = path.join(dir, 'all.picpac.json');
    const manifest = await writeShardManifest(manifestPath, shards);
    assert.deepEqual(manifest.shards.map((s) => [s.path, s.recordCount]), [['part-0.picpac', 5], ['part-1.picpac', 0], ['part-2.picpac', 7]]);
    assert.deepEqual([manifest.format, manifest.version], ['picpac-shards', 1]);
    assert.deepEqual(JSON.parse(await readFile(manifestPath, 'utf8')), manifest, 'the manifest file is the SHD-1 JSON');
    const store = (await openStore(manifestPath)) as ShardedStore;
    assert.equal(store.recordCount, 12);
    for (let i = 0; i < 12; i++) {
      assert.equal(store.meta(i).recordIndex, i);
      assert.equal(store.meta(i).id, i);
      const r = await store.get(i);
      assert.ok(matchesExpected(r, i));
      assert.equal(await store.getAnnotation(i), expectedRecord(i).annotation);
    }
    const scanned = [];
    for await (const r of store.scan({ start: 3, end: 9 })) scanned.push(r.recordIndex);
    assert.deepEqual(scanned, [3, 4, 5, 6, 7, 8]);
    assert.throws(() => store.meta(12), RangeError);
    await store.close();

    // A shard that changed after the manifest was written: byte length checked [SHD-4].
    await writeShard(path.join(dir, 'part-1.tmp.picpac'), 0, 1);
    await writeFile(shards[1], await readFile(path.join(dir, 'part-1.tmp.picpac')));
    await assert.rejects(openStore(manifestPath), (err: unknown) => {
      assert.ok(err instanceof FormatError);
      assert.match((err as Error).message, /all\.picpac\.json: manifest: shard part-1\.picpac byte length does not match the manifest/);
      return true;
    });
    await assert.rejects(writeShardManifest(manifestPath, shards), /refusing to overwrite/);
    await writeFile(path.join(dir, 'bad.picpac.json'), '{"format":"other"}');
    await assert.rejects(openStore(path.join(dir, 'bad.picpac.json')), /wrong manifest format/);
    await writeFile(path.join(dir, 'missing.picpac.json'), JSON.stringify({ format: 'picpac-shards', version: 1, shards: [{ path: 'nope.picpac', recordCount: 1, byteLength: 1 }] }));
    await assert.rejects(openStore(path.join(dir, 'missing.picpac.json')), /nope\.picpac/);
  });

  // [SHD-3] [SEC-5] A shard path is relative to the manifest's directory, with `/` separators,
  // and may not escape it: absolute paths, URLs and `..` segments are refused before anything
  // is opened, and writeShardManifest refuses to write such a manifest.
  test('a manifest whose shard path is absolute, a URL or contains .. is refused [SHD-3] [SEC-5]', async () => {
    const sub = path.join(dir, 'escape');
    await mkdir(sub, { recursive: true });
    const outside = path.join(dir, 'outside.picpac');
    await writeShard(outside, 0, 2);
    const byteLength = (await stat(outside)).size;
    const escapes: Array<[string, RegExp]> = [
      [outside, /is absolute/],
      ['../outside.picpac', /contains a \.\. segment/],
      ['a/../../outside.picpac', /contains a \.\. segment/],
      ['..', /contains a \.\. segment/],
      ['..\\outside.picpac', /backslash/],
      ['C:/data/outside.picpac', /is absolute/],
      ['file:///etc/passwd', /is a URL/],
      ['http://example.com/x.picpac', /is a URL/],
    ];
    for (const [shardPath, message] of escapes) {
      const manifestPath = path.join(sub, 'esc.picpac.json');
      await writeFile(manifestPath, JSON.stringify({ format: 'picpac-shards', version: 1, shards: [{ path: shardPath, recordCount: 2, byteLength }] }));
      await assert.rejects(openStore(manifestPath), (err: unknown) => {
        assert.ok(err instanceof FormatError, `${shardPath}: ${err}`);
        assert.match((err as Error).message, message, shardPath);
        assert.match((err as Error).message, /esc\.picpac\.json: manifest: shards\[0\]\.path/);
        return true;
      });
    }
    // The same shard named from inside the manifest's directory is fine.
    await writeFile(path.join(dir, 'ok.picpac.json'), JSON.stringify({ format: 'picpac-shards', version: 1, shards: [{ path: './outside.picpac', recordCount: 2, byteLength }] }));
    const store = await openStore(path.join(dir, 'ok.picpac.json'));
    assert.equal(store.recordCount, 2);
    await store.close();
    // A manifest listing a file outside its directory is not written.
    await assert.rejects(writeShardManifest(path.join(sub, 'w.picpac.json'), [outside]), TypeError);
    assert.equal(existsSync(path.join(sub, 'w.picpac.json')), false);
  });

  // [SHD-4] each shard's record count and byte length are checked against the manifest; an
  // unknown format or a version other than 1 is refused.
  test('record count and byte length mismatches, unknown format and version are refused [SHD-4]', async () => {
    const shard = path.join(dir, 'count.picpac');
    await writeShard(shard, 0, 3);
    const byteLength = (await stat(shard)).size;
    const write = async (name: string, manifest: unknown): Promise<string> => {
      const p = path.join(dir, name);
      await writeFile(p, JSON.stringify(manifest));
      return p;
    };
    const good = { format: 'picpac-shards', version: 1, shards: [{ path: 'count.picpac', recordCount: 3, byteLength }] };
    const ok = await openStore(await write('count-ok.picpac.json', good));
    assert.equal(ok.recordCount, 3);
    await ok.close();
    const cases: Array<[unknown, (e: FormatError) => void]> = [
      [{ ...good, shards: [{ ...good.shards[0], recordCount: 4 }] }, (e) => {
        assert.match(e.message, /shard count\.picpac record count does not match the manifest/);
        assert.deepEqual([e.expected, e.actual], [4, 3]);
      }],
      [{ ...good, shards: [{ ...good.shards[0], byteLength: byteLength + 1 }] }, (e) => {
        assert.match(e.message, /byte length does not match the manifest/);
        assert.deepEqual([e.expected, e.actual], [byteLength + 1, byteLength]);
      }],
      [{ ...good, format: 'picpac-shardz' }, (e) => assert.match(e.message, /wrong manifest format/)],
      [{ ...good, version: 2 }, (e) => assert.match(e.message, /unsupported manifest version at byte 0: expected 1, got 2/)],
      [{ ...good, version: '1' }, (e) => assert.match(e.message, /unsupported manifest version/)],
      [{ format: 'picpac-shards' }, (e) => assert.match(e.message, /unsupported manifest version/)],
    ];
    for (const [i, [manifest, check]] of cases.entries()) {
      await assert.rejects(openStore(await write(`count-${i}.picpac.json`, manifest)), (err: unknown) => {
        assert.ok(err instanceof FormatError, String(err));
        check(err);
        return true;
      });
    }
  });
});
