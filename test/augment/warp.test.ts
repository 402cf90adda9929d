// Geometry kernels: resize targets, bilinear/nearest resize, the fused affine warp and its
// invariants (identity, exact 90° rotation, scale doubles size, flips are involutions,
// crop/pad/round_div offsets, labels never interpolated).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resizeBilinear, resizeNearest, resizeTarget } from '../../src/augment/pixels/resize.ts';
import { cropOrPad, flipImage, planCrop, planGeometry, warpImage, warpLabel } from '../../src/augment/pixels/warp.ts';
import type { Image } from '../../src/augment/pixels/image.ts';
import { makeImage, pixel } from './helpers.ts';

const photoLike = (w: number, h: number, ch: 1 | 3 = 3) => makeImage(w, h, ch, (x, y, c) => (x * 7 + y * 13 + c * 50 + ((x * y) % 17)) & 255);

describe('resizeTarget (v1 LimitSize)', () => {
  test('exact size wins; max then min keep aspect with integer arithmetic', () => {
    assert.deepEqual(resizeTarget(500, 375, { resizeWidth: 256, resizeHeight: 128 }), { width: 256, height: 128 });
    assert.deepEqual(resizeTarget(500, 375, { maxSize: 256 }), { width: 256, height: 192 });
    assert.deepEqual(resizeTarget(100, 50, { minSize: 75 }), { width: 150, height: 75 });
    assert.deepEqual(resizeTarget(1000, 100, { maxSize: 500, minSize: 100 }), { width: 1000, height: 100 });
    assert.deepEqual(resizeTarget(300, 200, {}), { width: 300, height: 200 });
    assert.deepEqual(resizeTarget(300, 200, { resizeWidth: 10 }), { width: 300, height: 200 }); // both or neither
  });
});

describe('resize', () => {
  test('same size is the identity; constant images stay constant; sizes are as asked', () => {
    const img = photoLike(31, 17);
    assert.deepEqual(resizeBilinear(img, 31, 17), img);
    const flat = makeImage(20, 10, 3, () => 77);
    const up = resizeBilinear(flat, 53, 29);
    assert.deepEqual([up.width, up.height, new Set(up.data).size, up.data[0]], [53, 29, 1, 77]);
    const down = resizeBilinear(photoLike(64, 64), 16, 16);
    assert.deepEqual([down.width, down.height, down.data.length], [16, 16, 16 * 16 * 3]);
  });

  test('2× downscale of 8-bit averages 2×2 blocks (half-pixel centres)', () => {
    const img = makeImage(4, 2, 1, (x) => x * 10);
    assert.deepEqual(Array.from(resizeBilinear(img, 2, 1).data), [5, 25]);
  });

  test('nearest keeps only existing values; region crops before resampling', () => {
    const label = makeImage(9, 7, 1, (x, y) => ((x + y) % 3) * 100);
    const up = resizeNearest(label, 40, 33);
    for (const v of new Set(up.data)) assert.ok([0, 100, 200].includes(v));
    const roi = resizeNearest(label, 2, 2, { left: 3, top: 3, width: 2, height: 2 });
    assert.deepEqual(Array.from(roi.data), [0, 100, 100, 200]);
    assert.throws(() => resizeNearest(label, 2, 2, { left: 8, top: 0, width: 2, height: 2 }), TypeError);
    assert.throws(() => resizeBilinear(label, 0, 2), TypeError);
  });

  test('16-bit and float images resize in their own type', () => {
    const u16: Image = { width: 2, height: 1, channels: 1, data: Uint16Array.of(1000, 3000) };
    const r = resizeBilinear(u16, 4, 1);
    assert.ok(r.data instanceof Uint16Array);
    assert.deepEqual(Array.from(r.data), [1000, 1500, 2500, 3000]);
    const f: Image = { width: 2, height: 1, channels: 1, data: Float32Array.of(0, 1) };
    assert.deepEqual(Array.from(resizeBilinear(f, 4, 1).data), [0, 0.25, 0.75, 1]);
  });
});

describe('planGeometry + warp', () => {
  test('the identity plan reproduces image and label exactly', () => {
    const img = photoLike(40, 30);
    const plan = planGeometry(40, 30, {});
    assert.deepEqual(warpImage(img, plan), img);
    assert.deepEqual(warpLabel(img, plan), img);
    // 360° is numerically not a copy but must still sample exactly on pixel centres.
    const full = warpImage(img, planGeometry(40, 30, { angle: 360 }));
    let maxDiff = 0;
    for (let i = 0; i < img.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(full.data[i] - img.data[i]));
    assert.ok(maxDiff <= 1, `max diff ${maxDiff}`);
  });

  test('90° rotation of a square maps corner pixels as OpenCV does (counter-clockwise, centre cols/2)', () => {
    const n = 8;
    const img = makeImage(n, n, 1, (x, y) => y * n + x + 1);
    const rot = warpImage(img, planGeometry(n, n, { angle: 90 }));
    const lab = warpLabel(img, planGeometry(n, n, { angle: 90 }));
    // Centre (4, 4); counter-clockwise 90°: output (x, y) ← source (8 − y, x). The top-right
    // corner moves to the top-left, the bottom-right to the top-right.
    assert.deepEqual(pixel(rot, 0, 1), pixel(img, 7, 0));
    assert.deepEqual(pixel(rot, 7, 1), pixel(img, 7, 7));
    assert.deepEqual(pixel(lab, 3, 5), pixel(img, 3, 3));
    assert.deepEqual(pixel(rot, 4, 4), pixel(img, 4, 4), 'the centre is fixed');
    // Row y = 0 of the output comes from source column x = 8, outside: zero border.
    assert.deepEqual(pixel(rot, 3, 0), [0]);
  });

  test('scale 2 doubles the size; scale 0.5 halves it; the image content stays aligned', () => {
    const img = photoLike(30, 20);
    const big = warpImage(img, planGeometry(30, 20, { scale: 2 }));
    assert.deepEqual([big.width, big.height], [60, 40]);
    const small = warpImage(img, planGeometry(30, 20, { scale: 0.5 }));
    assert.deepEqual([small.width, small.height], [15, 10]);
    const ref = resizeBilinear(img, 60, 40);
    let maxDiff = 0;
    for (let i = 0; i < ref.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref.data[i] - big.data[i]));
    assert.ok(maxDiff <= 2, `fused scale differs from resize by ${maxDiff}`);
  });

  test('flips are involutions and exact', () => {
    const img = photoLike(13, 9);
    for (const options of [{ horizontal: true }, { vertical: true }, { horizontal: true, vertical: true }]) {
      const once = flipImage(img, options);
      assert.notDeepEqual(once, img);
      assert.deepEqual(flipImage(once, options), img);
    }
    assert.deepEqual(pixel(flipImage(img, { horizontal: true }), 0, 2), pixel(img, 12, 2));
    assert.deepEqual(pixel(flipImage(img, { vertical: true }), 4, 0), pixel(img, 4, 8));
  });

  test('crop-or-pad copies the window and zero-fills outside', () => {
    const img = makeImage(5, 4, 1, (x, y) => 10 * y + x + 1);
    const c = cropOrPad(img, { left: -1, top: 2, width: 4, height: 3 });
    assert.deepEqual(Array.from(c.data), [0, 21, 22, 23, 0, 31, 32, 33, 0, 0, 0, 0]);
    const plan = planCrop(5, 4, { left: 1, top: 1, width: 2, height: 2 });
    assert.deepEqual(Array.from(warpImage(img, plan).data), [12, 13, 22, 23]);
  });

  test('v1 crop offsets: centred without perturb, shift % margin with, padding when smaller', () => {
    const centred = planGeometry(100, 80, { cropWidth: 60, cropHeight: 50 });
    assert.deepEqual([centred.inverse[2], centred.inverse[5]], [20, 15]);
    const random = planGeometry(100, 80, { cropWidth: 60, cropHeight: 50, randomOffsets: true, shiftX: 4000000041, shiftY: 7 });
    assert.deepEqual([random.inverse[2], random.inverse[5]], [4000000041 % 40, 7]);
    const exact = planGeometry(60, 50, { cropWidth: 60, cropHeight: 50, randomOffsets: true, shiftX: 5, shiftY: 5 });
    assert.deepEqual([exact.inverse[2], exact.inverse[5]], [0, 0]); // v1 divided by zero here
    const pad = planGeometry(10, 10, { cropWidth: 14, cropHeight: 10 });
    assert.deepEqual(pad.frame, { left: 2, top: 0, right: 12, bottom: 10 });
  });

  test('round_div: largest k·div + mod that fits; random offset shift % (margin + 1)', () => {
    const plan = planGeometry(100, 70, { roundDiv: 32, roundMod: 1, randomOffsets: true, shiftX: 10, shiftY: 10 });
    assert.deepEqual([plan.width, plan.height], [97, 65]);
    assert.deepEqual([plan.inverse[2], plan.inverse[5]], [10 % 4, 10 % 6]);
    assert.throws(() => planGeometry(10, 10, { roundDiv: 32, roundMod: 0 }), RangeError);
  });

  test('labels keep their value set under rotation + scale; plan/source mismatch is refused', () => {
    const label = makeImage(33, 21, 1, (x, y) => [0, 7, 9][(x >> 2) % 3 + ((y >> 2) % 2)] ?? 0);
    const plan = planGeometry(33, 21, { angle: 17, scale: 1.7, hflip: true, cropWidth: 40, cropHeight: 40, randomOffsets: true, shiftX: 123, shiftY: 45 });
    for (const v of new Set(warpLabel(label, plan).data)) assert.ok([0, 7, 9].includes(v));
    assert.throws(() => warpImage(photoLike(10, 10), plan), TypeError);
    assert.throws(() => planGeometry(10, 10, { scale: 0 }), RangeError);
    assert.throws(() => planGeometry(10, 10, { angle: Number.NaN }), TypeError);
  });

  test('1-, 4-channel and float images take the generic kernels', () => {
    const plan = planGeometry(16, 16, { angle: 30, scale: 1.2 });
    for (const ch of [1, 4] as const) {
      const img = makeImage(16, 16, ch, () => 200);
      const out = warpImage(img, plan);
      assert.deepEqual(pixel(out, 10, 10), new Array(ch).fill(200)); // interior of a constant image stays constant
    }
    const f: Image = { width: 16, height: 16, channels: 1, data: new Float32Array(256).fill(0.5) };
    const out = warpImage(f, plan);
    assert.ok(out.data instanceof Float32Array);
    assert.ok(Math.abs(pixel(out, 10, 10)[0] - 0.5) < 1e-6);
  });
});
