// openStore sniff-and-dispatch (2.0, 1.0, shard manifests, LMDB refusal) and ShardedStore.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openStore, sniffStoreKind } from '../../src/engine/open-store.ts';
import { ShardedStore, writeShardManifest } from '../../src/engine/shards.ts';
import { PicpacWriter } from '../../src/engine/picpac-writer.ts';
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

  test('a shard manifest concatenates its shards; errors name the shard', async () => {
    const shards = [path.join(dir, 'part-0.picpac'), path.join(dir, 'part-1.picpac'), path.join(dir, 'part-2.picpac')];
    await writeShard(shards[0], 0, 5);
    await writeShard(shards[1], 5, 0);
    await writeShard(shards[2], 5, 7);
    const manifestPath = path.join(dir, 'all.picpac.json');
    const manifest = await writeShardManifest(manifestPath, shards);
    assert.deepEqual(manifest.shards.map((s) => [s.path, s.recordCount]), [['part-0.picpac', 5], ['part-1.picpac', 0], ['part-2.picpac', 7]]);
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

    // A shard that changed after the manifest was written.
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
});
