// Aligned files through the engine: record frames aligned, annotation/index/footer frames packed
// right after the frame before them [ALN-1] [ALN-3]; strict open does not read padding [ALN-5]
// (so a critical frame hidden there is only found by scanning, [EXT-5]); scans reject non-zero
// padding and name its offset [ALN-4].
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UnsupportedVersionError } from '../../src/errors.ts';
import { encodeFileImage } from '../../src/format/file-image.ts';
import { encodeFrame } from '../../src/format/frame.ts';
import { FieldKind } from '../../src/format/layout.ts';
import { MemorySource } from '../../src/engine/sources/byte-source.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { rebuildIndex } from '../../src/engine/picpac/recovery.ts';
import { verifyStore } from '../../src/engine/picpac/verify.ts';
import { tempDir, toNewRecord } from './helpers.ts';

const rec = (id: number, annotation?: string) => ({
  id,
  label: id,
  label2: 0,
  fields: [{ kind: FieldKind.bytes, codec: 0, bytes: new Uint8Array(1000 + id).fill(id + 1), width: 0, height: 0 }],
  ...(annotation === undefined ? {} : { annotation }),
});
const text = (i: number) => `{"shapes": [{"type": "point", "geometry": {"x": 0.${i}, "y": 0.5}}]}`;

describe('aligned files in the engine [ALN-1] [ALN-3] [ALN-5]', () => {
  test('writer = reference writer; each annotation shares its record\'s padded extent', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const records = [rec(0, text(1)), rec(1), rec(2, text(2))];
      const file = path.join(dir, 'a.picpac');
      const w = await PicpacWriter.create(file, { alignment: 4096, fsyncOnClose: false });
      for (const r of records) void w.append(toNewRecord(r));
      await w.close();
      const bytes = new Uint8Array(await readFile(file));
      assert.deepEqual(bytes, encodeFileImage(records, { alignment: 4096 }));
      // 3 records of ~1 KB + 2 annotations fit one page each: header page + 3 pages, the last unpadded
      assert.ok(bytes.length < 4 * 4096, `${bytes.length} bytes`);
      const r = await PicpacReader.open(file);
      assert.equal(r.columns.annotationOffset[0], r.columns.frameOffset[0] + 16 + r.columns.payloadByteLength[0]);
      assert.equal((await r.get(2)).annotation, text(2));
      const scanned = [];
      for await (const s of r.scan()) scanned.push(s.annotation);
      assert.deepEqual(scanned, [text(1), undefined, text(2)]);
      await r.close();
      // an annotation-only append starts right after the old footer
      const a = await PicpacWriter.append(file, { fsyncOnClose: false });
      await a.setAnnotation(1, text(3));
      await a.close();
      const r2 = await PicpacReader.open(file);
      assert.equal(r2.columns.annotationOffset[1], bytes.length);
      assert.equal((await r2.get(1)).annotation, text(3));
      await r2.close();
    } finally {
      await cleanup();
    }
  });

  test('many MiB appended without awaiting: reused arenas still write zero padding, bytes = reference writer [ALN-3] [WRT-1]', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const records = Array.from({ length: 150 }, (_, i) => ({
        id: i,
        label: i % 7,
        label2: 0,
        fields: [{ kind: FieldKind.bytes, codec: 0, bytes: new Uint8Array(90_000 + i * 37).fill(0xa0 + (i % 50)), width: 0, height: 0 }],
        ...(i % 3 === 0 ? { annotation: text(i) } : {}),
      }));
      const file = path.join(dir, 'big.picpac');
      const w = await PicpacWriter.create(file, { alignment: 4096, fsyncOnClose: false });
      const acks = records.map((r) => w.append(toNewRecord(r)));
      await w.close();
      assert.deepEqual(await Promise.all(acks), records.map((_, i) => i));
      const bytes = new Uint8Array(await readFile(file));
      assert.ok(bytes.length > 12 << 20);
      assert.ok(Buffer.from(bytes).equals(Buffer.from(encodeFileImage(records, { alignment: 4096 }))), 'byte-identical to encodeFileImage');
    } finally {
      await cleanup();
    }
  });

  test('strict open skips padding unread; a critical frame hidden there is found by scans only [EXT-5] [EXT-2]', async () => {
    const bytes = encodeFileImage([rec(0), rec(1)], { alignment: 4096 });
    const end0 = 4096 + 16 + 32 + 16 + 1000; // end of record 0, then padding up to 8192
    const critical = encodeFrame(200, new Uint8Array(8), 1);
    const hidden = bytes.slice();
    hidden.set(critical, end0);
    const strict = await PicpacReader.open(new MemorySource(hidden, 'hidden.picpac'));
    assert.equal(strict.recordCount, 2, 'the padding gap is not read [ALN-5]');
    await strict.close();
    await assert.rejects(rebuildIndex(new MemorySource(hidden)), UnsupportedVersionError);
    const v = await verifyStore(new MemorySource(hidden, 'hidden.picpac'));
    assert.ok(v.problems.some((p) => /unknown critical frame kind/.test(p.message)), JSON.stringify(v.problems));
  });

  test('non-zero padding: verify names the byte, recovery stops before it [ALN-4] [RCV-1]', async () => {
    const bytes = encodeFileImage([rec(0), rec(1), rec(2)], { alignment: 4096 });
    const end0 = 4096 + 16 + 32 + 16 + 1000;
    const dirty = bytes.slice();
    dirty[end0 + 7] = 0x33;
    const v = await verifyStore(new MemorySource(dirty, 'dirty.picpac'));
    assert.equal(v.ok, false);
    assert.equal(v.problems[0].byteOffset, end0 + 7, JSON.stringify(v.problems));
    assert.match(v.problems[0].message, /non-zero padding/);
    const cut = dirty.subarray(0, dirty.length - 1); // no footer: recovery path
    const rebuilt = await rebuildIndex(new MemorySource(cut));
    assert.deepEqual([rebuilt.index.recordCount, rebuilt.endOffset, rebuilt.tornOffset], [1, end0, end0 + 7]);
    const salvaged = await rebuildIndex(new MemorySource(cut), { resync: true });
    assert.deepEqual(Array.from(salvaged.index.id.subarray(0, salvaged.index.recordCount)), [0, 1, 2]);
  });

  test('a live reader follows an aligned file written record by record; cut padding is not corruption [CON-3]', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, 'live.picpac');
      const w = await PicpacWriter.create(file, { alignment: 4096, bufferBytes: 0, fsyncOnClose: false });
      await w.append(toNewRecord(rec(0, text(1))));
      const r = await PicpacReader.open(file, { recover: true });
      assert.equal(r.recordCount, 1);
      await w.append(toNewRecord(rec(1)));
      assert.equal(await r.refresh(), 2);
      await w.close();
      assert.equal(await r.refresh(), 2);
      assert.equal(r.recovered, true);
      await r.close();
      // a file cut inside the padding before a record: the prefix is intact
      const whole = new Uint8Array(await readFile(file));
      await writeFile(file, whole.subarray(0, 8192 - 10));
      const cut = await PicpacReader.open(file, { recover: true });
      assert.equal(cut.recordCount, 1);
      assert.equal((await cut.get(0)).annotation, text(1));
      await cut.close();
    } finally {
      await cleanup();
    }
  });
});
