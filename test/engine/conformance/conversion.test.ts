// Conversions between backends through transcodeStore (src/augment/pixels/transcode.ts):
// v2 → lmdb-encoded → v2 is exact; v2 (JPEG) → lmdb-raw holds the decoded pixels; lmdb-raw → v2
// re-encodes (same size, similar pixels) and says so.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PicpacReader } from '../../../src/engine/picpac/picpac-reader.ts';
import { PicpacWriter } from '../../../src/engine/picpac/picpac-writer.ts';
import { LmdbStore, LmdbWriter } from '../../../src/engine/lmdb/lmdb-store.ts';
import { V1Reader } from '../../../src/engine/v1/v1-reader.ts';
import { V1Writer } from '../../../src/engine/v1/v1-writer.ts';
import { decodeImageSync } from '../../../src/augment/pixels/decode.ts';
import { isRawImageField, transcodeStore } from '../../../src/augment/pixels/transcode.ts';
import { decodeTensor } from '../../../src/format/tensor.ts';
import { TensorDType } from '../../../src/format/layout.ts';
import type { Store, StoredRecord } from '../../../src/engine/store.ts';
import { plainStored, tempDir } from '../helpers.ts';
import { makeTestImages } from './suite.ts';
import type { TestImage } from './suite.ts';

let dir: string;
let cleanup: () => Promise<void>;
let images: TestImage[];
let v2Path: string;

async function all(store: Store): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for await (const r of store.scan({ copy: true } as never)) out.push({ ...r, fields: r.fields.map((f) => ({ ...f, bytes: f.bytes.slice() })) });
  return out;
}

function strip(records: StoredRecord[]): unknown[] {
  return records.map((r) => plainStored(r));
}

before(async () => {
  ({ dir, cleanup } = await tempDir('picpac-conversion-'));
  images = await makeTestImages(5);
  v2Path = join(dir, 'source.picpac');
  const writer = await PicpacWriter.create(v2Path);
  for (const [i, image] of images.entries()) {
    void writer.append({
      id: 10 + i,
      label: i / 4,
      label2: 2 - i,
      fields: [{ kind: 'image', bytes: image.jpeg }, { kind: 'bytes', bytes: Uint8Array.of(9, i) }],
      ...(i % 2 === 0 ? { annotation: `{"shapes":[{"type":"point","i":${i}}]}` } : {}),
    });
  }
  await writer.close();
});
after(() => cleanup());

describe('transcodeStore', () => {
  test('v2 → lmdb-encoded → v2 keeps bytes, labels, ids and annotations exactly', async () => {
    const lmdbDir = join(dir, 'enc.lmdb');
    const source = await PicpacReader.open(v2Path);
    const lw = await LmdbWriter.create(lmdbDir, { mode: 'encoded', noSync: true });
    const r1 = await transcodeStore(source, lw, { to: 'keep' });
    await lw.close();
    assert.deepEqual(r1, { recordCount: 5, decodedCount: 0, reencodedCount: 0, notes: [] });
    const lmdb = await LmdbStore.open(lmdbDir);
    const backPath = join(dir, 'back.picpac');
    const pw = await PicpacWriter.create(backPath);
    await transcodeStore(lmdb, pw, { to: 'encoded' });
    await pw.close();
    const back = await PicpacReader.open(backPath);
    assert.deepEqual(strip(await all(lmdb)), strip(await all(source)));
    assert.deepEqual(strip(await all(back)), strip(await all(source)));
    for (const s of [source, lmdb, back]) await s.close();
  });

  test('v2 (JPEG) → lmdb-raw holds exactly the decoded pixels, [H, W, 3] RGB, and says so', async () => {
    const rawDir = join(dir, 'raw.lmdb');
    const source = await PicpacReader.open(v2Path);
    const lw = await LmdbWriter.create(rawDir, { mode: 'raw', noSync: true });
    const result = await transcodeStore(source, lw, { to: 'raw' });
    await lw.close();
    assert.equal(result.decodedCount, 5);
    assert.match(result.notes.join('\n'), /decoded 5 image\(s\) to raw 3-channel uint8 pixels/);
    const raw = await LmdbStore.open(rawDir);
    assert.equal(raw.format, 'lmdb-raw');
    const sourceRecords = await all(source);
    for (const [i, r] of (await all(raw)).entries()) {
      const f = r.fields[0];
      assert.equal(f.type, 'tensor/uint8');
      assert.ok(isRawImageField(f));
      const tensor = decodeTensor(f.bytes, 0, TensorDType.uint8);
      const decoded = decodeImageSync(sourceRecords[i].fields[0].bytes, { channels: 3 });
      assert.deepEqual(tensor.shape, [images[i].height, images[i].width, 3]);
      assert.deepEqual(Buffer.from(tensor.data), Buffer.from(decoded.data as Uint8Array), `record ${i} pixels`);
      assert.deepEqual(raw.meta(i).width, images[i].width);
      assert.deepEqual([r.id, r.label, r.label2, r.annotation], [sourceRecords[i].id, sourceRecords[i].label, sourceRecords[i].label2, sourceRecords[i].annotation]);
      assert.deepEqual(Buffer.from(r.fields[1].bytes), Buffer.from(sourceRecords[i].fields[1].bytes));
    }
    await raw.close();
    await source.close();
  });

  test('lmdb-raw → v2 and → 1.0 re-encode as JPEG at the stated quality: same size, similar pixels', async () => {
    const rawDir = join(dir, 'raw2.lmdb');
    const source = await PicpacReader.open(v2Path);
    const lw = await LmdbWriter.create(rawDir, { mode: 'raw', noSync: true });
    await transcodeStore(source, lw, { to: 'raw' });
    await lw.close();
    const raw = await LmdbStore.open(rawDir);
    const outPath = join(dir, 'reencoded.picpac');
    const pw = await PicpacWriter.create(outPath);
    const result = await transcodeStore(raw, pw, { to: 'encoded', quality: 92 });
    await pw.close();
    assert.equal(result.reencodedCount, 5);
    assert.match(result.notes[0], /re-encoded 5 raw image\(s\) as JPEG quality 92 \(lossy/);
    const v1Path = join(dir, 'reencoded.db');
    const vw = await V1Writer.create(v1Path);
    await transcodeStore(raw, vw, { to: 'encoded' });
    await vw.close();
    const rawRecords = await all(raw);
    for (const store of [await PicpacReader.open(outPath), await V1Reader.open(v1Path)]) {
      for (const [i, r] of (await all(store)).entries()) {
        assert.equal(r.fields[0].type, 'image/jpeg');
        assert.deepEqual([r.width, r.height], [images[i].width, images[i].height]);
        const back = decodeImageSync(r.fields[0].bytes, { channels: 3 });
        const pixels = decodeTensor(rawRecords[i].fields[0].bytes, 0, TensorDType.uint8).data;
        let sum = 0;
        for (let k = 0; k < pixels.length; k++) sum += Math.abs(pixels[k] - (back.data as Uint8Array)[k]);
        assert.ok(sum / pixels.length < 12, `record ${i}: mean abs difference ${sum / pixels.length}`);
        assert.deepEqual([r.id, r.label, r.label2, r.annotation], [rawRecords[i].id, rawRecords[i].label, rawRecords[i].label2, rawRecords[i].annotation]);
      }
      await store.close();
    }
    await raw.close();
    await source.close();
  });

  test('argument errors use the sharp sentence', async () => {
    const source = await PicpacReader.open(v2Path);
    const writer = await PicpacWriter.create(join(dir, 'unused.picpac'));
    await assert.rejects(transcodeStore(source, writer, { to: 'png' as never }), { name: 'TypeError', message: `Expected one of 'raw', 'encoded', 'keep' for options.to but received "png" of type string` });
    await assert.rejects(transcodeStore(source, writer, { to: 'encoded', quality: 0 }), RangeError);
    await writer.close();
    await source.close();
  });

  test('a raw LMDB writer refuses a record whose field 0 is not raw pixels', async () => {
    const lw = await LmdbWriter.create(join(dir, 'refuse.lmdb'), { mode: 'raw', noSync: true });
    await assert.rejects(lw.append({ fields: [{ kind: 'image', bytes: images[0].jpeg }] }), TypeError);
    await lw.close();
  });
});
