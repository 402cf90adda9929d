import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { sniffImage } from '../../src/format/image-sniff.ts';
import { ImageCodec } from '../../src/format/layout.ts';

const vectorSrc = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../vectors/v2/src');

describe('sniffImage [REC-7]', () => {
  test('JPEG and PNG from the vector sources', () => {
    assert.deepEqual(sniffImage(new Uint8Array(readFileSync(path.join(vectorSrc, '00000.jpg')))), { codec: ImageCodec.jpeg, width: 96, height: 72 });
    assert.deepEqual(sniffImage(new Uint8Array(readFileSync(path.join(vectorSrc, 'mask-8x6.png')))), { codec: ImageCodec.png, width: 8, height: 6 });
  });

  test('every format sharp writes here, at an odd size', async () => {
    const base = sharp({ create: { width: 37, height: 21, channels: 3, background: { r: 10, g: 200, b: 30 } } });
    const cases: Array<[string, number]> = [['jpeg', ImageCodec.jpeg], ['png', ImageCodec.png], ['webp', ImageCodec.webp], ['gif', ImageCodec.gif]];
    for (const [format, codec] of cases) {
      const buf = await base.clone().toFormat(format as never).toBuffer();
      assert.deepEqual(sniffImage(new Uint8Array(buf)), { codec, width: 37, height: 21 }, format);
    }
    const lossless = await base.clone().webp({ lossless: true }).toBuffer();
    assert.deepEqual(sniffImage(new Uint8Array(lossless)), { codec: ImageCodec.webp, width: 37, height: 21 });
    const tiff = await base.clone().tiff().toBuffer();
    assert.equal(sniffImage(new Uint8Array(tiff)).codec, ImageCodec.tiff);
  });

  test('BMP header (BITMAPINFOHEADER, bottom-up and top-down)', () => {
    const bmp = new Uint8Array(54);
    const v = new DataView(bmp.buffer);
    bmp.set([0x42, 0x4d]);
    v.setUint32(14, 40, true);
    v.setInt32(18, 5, true);
    v.setInt32(22, -7, true);
    assert.deepEqual(sniffImage(bmp), { codec: ImageCodec.bmp, width: 5, height: 7 });
  });

  test('PicPac 1.0 raw matrix: CV_8UC3 2x3', () => {
    const raw = new Uint8Array(16 + 2 * 3 * 3);
    const v = new DataView(raw.buffer);
    v.setInt32(0, 16, true);
    v.setInt32(4, 2, true);
    v.setInt32(8, 3, true);
    v.setInt32(12, 3, true);
    assert.deepEqual(sniffImage(raw), { codec: ImageCodec.v1raw, width: 3, height: 2 });
    assert.equal(sniffImage(raw.subarray(0, raw.length - 1)).codec, ImageCodec.unknown);
  });

  test('unknown, empty and truncated input never throws', () => {
    const jpeg = new Uint8Array(readFileSync(path.join(vectorSrc, '00001.jpg')));
    for (let cut = 0; cut < 700; cut += 7) {
      const s = sniffImage(jpeg.subarray(0, cut));
      assert.ok(s.codec === ImageCodec.jpeg || s.codec === ImageCodec.unknown);
    }
    assert.deepEqual(sniffImage(new Uint8Array(0)), { codec: 0, width: 0, height: 0 });
    assert.deepEqual(sniffImage(new TextEncoder().encode('{"shapes": []}')), { codec: 0, width: 0, height: 0 });
    assert.deepEqual(sniffImage('nope' as never), { codec: 0, width: 0, height: 0 });
  });
});
