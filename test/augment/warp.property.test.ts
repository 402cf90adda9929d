// Properties of the geometry plan over random v1 perturbations (fast-check, fixed seed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { rasterizeAnnotationTracked } from '../../src/augment/pixels/rasterize.ts';
import { planGeometry, warpImage, warpLabel } from '../../src/augment/pixels/warp.ts';
import { makeImage } from './helpers.ts';

const perturbation = fc.record({
  width: fc.integer({ min: 4, max: 48 }),
  height: fc.integer({ min: 4, max: 48 }),
  angle: fc.double({ min: -180, max: 180, noNaN: true }),
  scale: fc.double({ min: 0.3, max: 2.5, noNaN: true }),
  hflip: fc.boolean(),
  vflip: fc.boolean(),
  cropWidth: fc.integer({ min: 1, max: 64 }),
  cropHeight: fc.integer({ min: 1, max: 64 }),
  shiftX: fc.nat(),
  shiftY: fc.nat(),
});

test('warped labels only contain input label values; sizes and frames are consistent', () => {
  fc.assert(fc.property(perturbation, (p) => {
    const label = makeImage(p.width, p.height, 1, (x, y) => ((x * 3 + y * 5) % 4) * 60 + 1);
    const plan = planGeometry(p.width, p.height, { ...p, randomOffsets: true });
    assert.deepEqual([plan.width, plan.height], [p.cropWidth, p.cropHeight]);
    assert.ok(plan.frame.left >= 0 && plan.frame.top >= 0 && plan.frame.right <= plan.width && plan.frame.bottom <= plan.height);
    const out = warpLabel(label, plan);
    for (const v of out.data) assert.ok(v === 0 || v === 1 || v === 61 || v === 121 || v === 181, `value ${v}`);
    const image = warpImage(makeImage(p.width, p.height, 3, () => 90), plan);
    // Bilinear never leaves the [0, max] range of the input plus the zero border.
    for (const v of image.data) assert.ok(v <= 90);
  }), { seed: 42, numRuns: 300 });
});

test('flip plans are involutions for any size; a pure crop plan copies exactly', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.boolean(), (w, h, hflip, vflip) => {
    const image = makeImage(w, h, 3, (x, y, c) => (x * 7 + y * 11 + c) & 255);
    const plan = planGeometry(w, h, { hflip, vflip });
    assert.deepEqual(warpImage(warpImage(image, plan), plan), image);
    assert.deepEqual(warpLabel(warpLabel(image, plan), plan), image);
  }), { seed: 42, numRuns: 200 });
});

test('warpLabel with the rasteriser\'s drawn bounds equals the full warp', () => {
  fc.assert(fc.property(perturbation, fc.double({ min: -0.2, max: 0.9, noNaN: true }), fc.double({ min: -0.2, max: 0.9, noNaN: true }),
    fc.double({ min: 0, max: 0.6, noNaN: true }), fc.constantFrom(-1, 1, 3), (p, x, y, size, thickness) => {
      const annotation = { shapes: [{ type: 'rect' as const, x, y, width: size, height: size * 0.7 }, { type: 'polygon' as const, points: [{ x, y }, { x: x + size, y }] }] };
      const { label, drawn } = rasterizeAnnotationTracked(annotation, p.width, p.height, { thickness });
      const plan = planGeometry(p.width, p.height, { ...p, randomOffsets: true });
      const full = warpLabel(label, plan);
      const bounded = warpLabel(label, plan, { sourceBounds: drawn ?? { left: 0, top: 0, right: 0, bottom: 0 } });
      assert.deepEqual(bounded, full);
    }), { seed: 42, numRuns: 300 });
});

test('warping into caller storage (any previous contents) gives the fresh result and aliases the storage', () => {
  fc.assert(fc.property(perturbation, fc.integer({ min: 0, max: 255 }), fc.boolean(), (p, junk, jitter) => {
    const image = makeImage(p.width, p.height, 3, (x, y, c) => (x * 13 + y * 7 + c * 50) & 255);
    const label = makeImage(p.width, p.height, 1, (x, y) => ((x + y) % 3) * 40);
    const plan = planGeometry(p.width, p.height, { ...p, randomOffsets: true });
    const lut = jitter ? Uint8Array.from({ length: 768 }, (_, i) => Math.min(255, (i & 255) + 9)) : undefined;
    // Storage larger than needed and full of junk: everything not written must come out zero.
    const intoImage = new Uint8Array(plan.width * plan.height * 3 + 17).fill(junk);
    const intoLabel = new Uint8Array(plan.width * plan.height + 5).fill(junk);
    const reused = warpImage(image, plan, { lut, into: intoImage });
    assert.deepEqual(reused, warpImage(image, plan, { lut }));
    assert.equal(reused.data.buffer, intoImage.buffer);
    const reusedLabel = warpLabel(label, plan, { into: intoLabel });
    assert.deepEqual(reusedLabel, warpLabel(label, plan));
    assert.equal(reusedLabel.data.buffer, intoLabel.buffer);
  }), { seed: 42, numRuns: 300 });
});

test('storage too small or of another sample type is not used', () => {
  const image = makeImage(8, 6, 3, (x, y, c) => x + y + c);
  const plan = planGeometry(8, 6, { angle: 10 });
  const small = new Uint8Array(10);
  assert.notEqual(warpImage(image, plan, { into: small }).data.buffer, small.buffer);
  const float = new Float32Array(8 * 6 * 3);
  const out = warpImage(image, plan, { into: float });
  assert.ok(out.data instanceof Uint8Array);
  assert.deepEqual(out, warpImage(image, plan));
});

/** warpLabel's nearest-neighbour rule written out per pixel (16.16 fixed point, + 0.5 then floor). */
function naiveWarpLabel(label: { width: number; height: number; channels: number; data: ArrayLike<number> }, plan: ReturnType<typeof planGeometry>): number[] {
  const [a, b, c, d, e, f] = plan.inverse;
  const ch = label.channels;
  const out = new Array<number>(plan.width * plan.height * ch).fill(0);
  const { left, top, right, bottom } = plan.frame;
  for (let y = top; y < bottom; y++) {
    let fx = Math.round((a * left + b * y + c + 0.5) * 65536) | 0;
    let fy = Math.round((d * left + e * y + f + 0.5) * 65536) | 0;
    for (let x = left; x < right; x++) {
      const xi = fx >> 16;
      const yi = fy >> 16;
      fx = (fx + Math.round(a * 65536)) | 0;
      fy = (fy + Math.round(d * 65536)) | 0;
      if (xi < 0 || yi < 0 || xi >= label.width || yi >= label.height) continue;
      for (let k = 0; k < ch; k++) out[(y * plan.width + x) * ch + k] = label.data[(yi * label.width + xi) * ch + k];
    }
  }
  return out;
}

test('warpLabel visits exactly the pixels whose nearest source pixel is inside the label', () => {
  fc.assert(fc.property(perturbation, fc.constantFrom(1 as const, 3 as const, 4 as const), (p, channels) => {
    const label = makeImage(p.width, p.height, channels, (x, y, k) => 1 + ((x * 5 + y * 3 + k) % 250));
    const plan = planGeometry(p.width, p.height, { ...p, randomOffsets: true });
    assert.deepEqual(Array.from(warpLabel(label, plan).data), naiveWarpLabel(label, plan));
  }), { seed: 7, numRuns: 400 });
});
