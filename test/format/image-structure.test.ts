// Issue 12 item 5 (format half): the structure walk that import, the stream and verify share.
// A truncated JPEG, a JPEG with garbage after byte 700, PNG/WebP/BMP cut short are incomplete;
// whole images are complete; bytes after the end marker are classified, never read.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { checkImageStructure } from '../../src/format/image-structure.ts';
import { ImageCodec } from '../../src/format/layout.ts';

/** A noisy photo-like image (entropy data large enough to hold every marker case). */
async function encoded(format: 'jpeg' | 'progressive' | 'png' | 'webp', width = 160, height = 120): Promise<Uint8Array> {
  const raw = new Uint8Array(width * height * 3);
  let s = 7;
  for (let i = 0; i < raw.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    raw[i] = ((i % (width * 3)) + (s >>> 26)) & 0xff;
  }
  const img = sharp(raw, { raw: { width, height, channels: 3 } });
  const out = format === 'png' ? img.png() : format === 'webp' ? img.webp() : img.jpeg({ quality: 90, progressive: format === 'progressive' });
  return new Uint8Array(await out.toBuffer());
}

/** Bytes from byte `from` on replaced by seeded pseudo-random garbage (same length). */
function garbageAfter(bytes: Uint8Array, from: number, seed: number): Uint8Array {
  const out = bytes.slice();
  let s = seed >>> 0;
  for (let i = from; i < out.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function bmp(width: number, height: number): Uint8Array {
  const row = (width * 3 + 3) & ~3;
  const out = new Uint8Array(54 + row * height);
  const view = new DataView(out.buffer);
  out[0] = 0x42;
  out[1] = 0x4d;
  view.setUint32(2, out.length, true);
  view.setUint32(10, 54, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  return out;
}

describe('image structure walk', () => {
  test('whole JPEG (baseline and progressive), PNG, WebP and BMP are complete with no trailer', async () => {
    for (const format of ['jpeg', 'progressive', 'png', 'webp'] as const) {
      const r = checkImageStructure(await encoded(format));
      assert.deepEqual([r.complete, r.checked, r.checked && r.complete ? r.trailingBytes : -1], [true, true, 0], format);
    }
    const r = checkImageStructure(bmp(5, 3));
    assert.ok(r.complete && r.checked);
  });

  test('a JPEG truncated at byte 700 (the issue\'s example) and at every 97th offset is incomplete', async () => {
    const jpeg = await encoded('jpeg');
    const at700 = checkImageStructure(jpeg.subarray(0, 700));
    assert.equal(at700.complete, false);
    assert.ok(!at700.complete && at700.checked && at700.truncated);
    assert.match(!at700.complete && at700.checked ? at700.problem : '', /JPEG data ends at byte 700 before the end-of-image marker \(truncated file\?\)/);
    for (let cut = 4; cut < jpeg.length - 1; cut += 97) assert.equal(checkImageStructure(jpeg.subarray(0, cut)).complete, false, `cut at ${cut}`);
  });

  test('a JPEG with garbage after byte 700 (same length) is incomplete, for 40 different garbage tails', async () => {
    for (const format of ['jpeg', 'progressive'] as const) {
      const jpeg = await encoded(format);
      for (let seed = 1; seed <= 20; seed++) {
        const r = checkImageStructure(garbageAfter(jpeg, 700, seed));
        assert.equal(r.complete, false, `${format} seed ${seed}`);
      }
    }
  });

  test('bytes after the end marker: padding, an embedded JPEG, or data — reported, not read', async () => {
    const jpeg = await encoded('jpeg');
    const join = (...parts: Uint8Array[]) => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) (out.set(p, o), (o += p.length));
      return out;
    };
    const padded = checkImageStructure(join(jpeg, new Uint8Array(100)));
    assert.ok(padded.complete && padded.checked && padded.trailer === 'padding' && padded.trailingBytes === 100);
    const embedded = checkImageStructure(join(jpeg, jpeg));
    assert.ok(embedded.complete && embedded.checked && embedded.trailer === 'image');
    const data = checkImageStructure(join(jpeg, new TextEncoder().encode('SEFHtrailer')));
    assert.ok(data.complete && data.checked && data.trailer === 'data' && data.trailingBytes === 11);
  });

  test('PNG cut inside IDAT or before IEND, WebP and BMP shorter than their headers say, are incomplete', async () => {
    const png = await encoded('png');
    for (const cut of [8, 30, png.length - 13, png.length - 1]) {
      const r = checkImageStructure(png.subarray(0, cut));
      assert.ok(!r.complete && r.checked && r.truncated, `png cut at ${cut}`);
    }
    const damaged = png.slice();
    damaged.fill(0x01, 33, 41); // the chunk after IHDR: its length and type become garbage
    assert.equal(checkImageStructure(damaged).complete, false);
    const webp = await encoded('webp');
    assert.match(JSON.stringify(checkImageStructure(webp.subarray(0, webp.length - 10))), /RIFF header says/);
    assert.equal(checkImageStructure(bmp(5, 3).subarray(0, 60)).complete, false);
  });

  test('codecs without a structural rule are "not checked", never refused; bytes that are not an image do not throw', () => {
    assert.deepEqual(checkImageStructure(new Uint8Array([0x49, 0x49, 0x2a, 0, 1, 2])), { complete: true, checked: false });
    assert.deepEqual(checkImageStructure(new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61]), ImageCodec.gif), { complete: true, checked: false });
    assert.equal(checkImageStructure(new Uint8Array([0xff, 0xd8]), ImageCodec.jpeg).complete, false);
  });

  test('a restart marker out of sequence is damage', async () => {
    const jpeg = await encoded('jpeg');
    // Find the scan start (SOS) and plant RST3 right after its header: RST0 was due.
    let sos = 2;
    while (!(jpeg[sos] === 0xff && jpeg[sos + 1] === 0xda)) sos += 2 + ((jpeg[sos + 2] << 8) | jpeg[sos + 3]);
    const at = sos + 2 + ((jpeg[sos + 2] << 8) | jpeg[sos + 3]) + 10;
    const bad = jpeg.slice();
    bad[at] = 0xff;
    bad[at + 1] = 0xd3;
    const r = checkImageStructure(bad);
    assert.ok(!r.complete && r.checked && /RST3 out of sequence/.test(r.problem));
  });
});
