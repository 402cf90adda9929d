// The v1 per-sample pipeline (REFERENCE §1.3.1): image/label geometric consistency (the key
// invariant), order of operations, determinism, perturbation sampling.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AnnotationError } from '../../src/augment/annotation.ts';
import type { Image } from '../../src/augment/pixels/image.ts';
import {
  NO_PERTURBATION, augmentSample, prepareSample, samplePerturbation, transformSample,
} from '../../src/augment/stream/sample-transform.ts';
import type { PixelParams } from '../../src/augment/stream/sample-transform.ts';
import { countPixels, iou, makeImage, mask, pixel, seededRandom, withinRadius } from './helpers.ts';

/** A black image with a white "plate" and the matching annotation rect. */
function plate(width: number, height: number, rect: { x: number; y: number; w: number; h: number }) {
  const x0 = Math.round(rect.x * width), y0 = Math.round(rect.y * height);
  const x1 = x0 + Math.round(rect.w * width), y1 = y0 + Math.round(rect.h * height);
  const image = makeImage(width, height, 3, (x, y) => (x >= x0 && x < x1 && y >= y0 && y < y1 ? 255 : 0));
  const annotation = JSON.stringify({ shapes: [{ type: 'rect', geometry: { x: rect.x, y: rect.y, width: rect.w, height: rect.h } }] });
  return { image, annotation };
}

const FULL: PixelParams = {
  annotate: 'json', perturb: true, pert_angle: 30, pert_min_scale: 0.7, pert_max_scale: 1.3,
  pert_hflip: true, pert_vflip: true, crop_width: 100, crop_height: 90, anno_color1: 1,
};

describe('transformSample: label mask follows the image [AUG-1]', () => {
  test('a rotated/scaled/flipped/cropped plate and its rect mask cover the same pixels (IoU ≥ 0.9, boundary ≤ 1 px)', () => {
    const rng = seededRandom(7);
    for (let i = 0; i < 60; i++) {
      const rect = { x: 0.2 + 0.3 * rng.next(), y: 0.2 + 0.3 * rng.next(), w: 0.15 + 0.2 * rng.next(), h: 0.15 + 0.2 * rng.next() };
      const { image, annotation } = plate(120, 100, rect);
      const params: PixelParams = { ...FULL, round_div: i % 3 === 0 ? 8 : 0 };
      const p = samplePerturbation(rng, params);
      const out = transformSample({ image, annotation }, params, p);
      assert.equal(out.label!.width, out.image.width);
      assert.equal(out.label!.height, out.image.height);
      const plateMask = mask(out.image, 127);
      const labelMask = mask(out.label!, 0);
      const score = iou(plateMask, labelMask);
      if (countPixels(out.label!, (v) => v > 0) < 30) continue; // plate mostly cropped away
      assert.ok(score >= 0.9, `sample ${i}: IoU ${score.toFixed(3)} with ${JSON.stringify(p)}`);
      assert.ok(withinRadius(plateMask, labelMask, out.image.width, out.image.height, 1), `sample ${i}: plate pixel > 1 px from the mask`);
      assert.ok(withinRadius(labelMask, plateMask, out.image.width, out.image.height, 1), `sample ${i}: mask pixel > 1 px from the plate`);
    }
  });

  test('label values after warping stay within the input label values (no interpolation)', () => {
    const rng = seededRandom(11);
    const image = makeImage(64, 48, 3, (x, y) => (x + y) & 255);
    const labelImage = makeImage(64, 48, 1, (x, y) => ((x >> 3) + (y >> 3)) % 2 === 0 ? 3 : 200);
    const params: PixelParams = { annotate: 'image', perturb: true, pert_angle: 45, pert_min_scale: 0.5, pert_max_scale: 2, pert_hflip: true, crop_width: 60, crop_height: 60 };
    for (let i = 0; i < 20; i++) {
      const out = transformSample({ image, labelImage }, params, samplePerturbation(rng, params));
      const values = new Set(out.label!.data);
      for (const v of values) assert.ok(v === 0 || v === 3 || v === 200, `unexpected label value ${v}`);
    }
  });
});

describe('transformSample: v1 order and options', () => {
  test('no perturb: centred crop; round_div; identity keeps the cached image untouched', () => {
    const image = makeImage(10, 8, 1, (x, y) => y * 10 + x);
    const out = transformSample({ image }, { crop_width: 6, crop_height: 4 }, NO_PERTURBATION);
    assert.deepEqual([out.image.width, out.image.height], [6, 4]);
    assert.deepEqual(pixel(out.image, 0, 0), [2 * 10 + 2]);
    const rd = transformSample({ image }, { round_div: 4, round_mod: 1 }, NO_PERTURBATION);
    assert.deepEqual([rd.image.width, rd.image.height], [9, 5]); // 10 → 9, 8 → 8/4*4+1 = 9 > 8 → 5
    assert.deepEqual(pixel(rd.image, 0, 0), [1 * 10 + 0]);
    const same = transformSample({ image }, {}, NO_PERTURBATION);
    assert.equal(same.image, image);
  });

  test('no perturb: crop larger than the image zero-pads, centred', () => {
    const image = makeImage(4, 4, 1, () => 9);
    const out = transformSample({ image }, { crop_width: 8, crop_height: 6 }, NO_PERTURBATION);
    assert.deepEqual([out.image.width, out.image.height], [8, 6]);
    assert.equal(countPixels(out.image, (v) => v === 9), 16);
    assert.deepEqual(pixel(out.image, 2, 1), [9]);
    assert.deepEqual(pixel(out.image, 1, 1), [0]);
  });

  test('colour jitter does not touch crop padding and does not mutate the prepared (cached) sample', () => {
    const image = makeImage(4, 4, 3, () => 100);
    const prepared = prepareSample({ image }, {});
    const params: PixelParams = { perturb: true, crop_width: 6, crop_height: 6 };
    const out = augmentSample(prepared, params, { ...NO_PERTURBATION, color: [10, 20, 30], shiftX: 1, shiftY: 1 });
    assert.equal(countPixels(out.image, (v) => v === 0), 20);
    const inside = out.image.data.findIndex((v) => v !== 0);
    // BGR deltas: B+10 G+20 R+30 → our RGB pixel is [130, 120, 110].
    assert.deepEqual(Array.from(out.image.data.subarray(inside, inside + 3)), [130, 120, 110]);
    assert.deepEqual(Array.from(new Set(prepared.image.data)), [100]);
  });

  test('annotate=auto returns the augmented image as the label', () => {
    const image = makeImage(8, 8, 3, (x) => x * 20);
    const out = transformSample({ image }, { annotate: 'auto', perturb: true, pert_hflip: true }, { ...NO_PERTURBATION, hflip: true });
    assert.equal(out.label, out.image);
    assert.deepEqual(pixel(out.image, 0, 0), [140, 140, 140]);
  });

  test('annotate=image: missing label → zeros; label resized with nearest to the image size; palette colours ids', () => {
    const image = makeImage(8, 8, 3, () => 1);
    assert.equal(countPixels(transformSample({ image }, { annotate: 'image' }, NO_PERTURBATION).label!, (v) => v !== 0), 0);
    const labelImage = makeImage(4, 4, 1, (x) => (x < 2 ? 1 : 2));
    const out = transformSample({ image, labelImage }, { annotate: 'image', anno_palette: 'tableau20' }, NO_PERTURBATION);
    assert.deepEqual([out.label!.width, out.label!.channels], [8, 3]);
    assert.deepEqual(pixel(out.label!, 0, 0), [31, 119, 180]);
    assert.deepEqual(pixel(out.label!, 7, 7), [174, 199, 232]);
  });

  test('resize_width/height, then rasterise at the resized size', () => {
    const image = makeImage(40, 20, 3, () => 0);
    const annotation = { shapes: [{ type: 'rect' as const, x: 0.5, y: 0, width: 0.5, height: 1 }] };
    const out = transformSample({ image, annotation }, { annotate: 'json', resize_width: 10, resize_height: 10 }, NO_PERTURBATION);
    assert.deepEqual([out.image.width, out.image.height], [10, 10]);
    assert.equal(countPixels(out.label!, (v) => v === 1), 50);
  });

  test('anno_min_ratio zooms so the shapes cover the ratio; labels stay binary', () => {
    const { image, annotation } = plate(100, 100, { x: 0.45, y: 0.45, w: 0.1, h: 0.1 });
    const out = transformSample({ image, annotation }, { annotate: 'json', anno_min_ratio: 0.25 }, NO_PERTURBATION);
    const covered = countPixels(out.label!, (v) => v === 1) / (100 * 100);
    assert.ok(covered > 0.2 && covered < 0.3, `covered ${covered}`);
    assert.deepEqual([...new Set(out.label!.data)].sort(), [0, 1]);
    assert.ok(iou(mask(out.image, 127), mask(out.label!, 0)) > 0.9);
  });

  test('16-bit colour images become float32 when perturbing (v1 16UC3 → 32FC3)', () => {
    const image: Image = { width: 2, height: 2, channels: 3, data: new Uint16Array(12).fill(1000) };
    const out = transformSample({ image }, { perturb: true }, { ...NO_PERTURBATION, color: [5, 0, 0] });
    assert.ok(out.image.data instanceof Float32Array);
    assert.deepEqual(pixel(out.image, 0, 0), [1000, 1000, 1005]);
  });

  test('bad annotation JSON → AnnotationError naming the record', () => {
    const image = makeImage(4, 4, 3, () => 0);
    assert.throws(() => transformSample({ image, annotation: '{"shapes": [', recordIndex: 17 }, { annotate: 'json' }, NO_PERTURBATION),
      (e: unknown) => e instanceof AnnotationError && e.recordIndex === 17 && /record 17/.test(e.message));
  });

  test('anno_min_ratio with annotate=image is refused (v1 CHECK)', () => {
    const image = makeImage(4, 4, 3, () => 0);
    assert.throws(() => prepareSample({ image }, { annotate: 'image', anno_min_ratio: 0.5 }), TypeError);
  });
});

describe('samplePerturbation', () => {
  test('deterministic for a seed; ranges respected; nine draws regardless of settings', () => {
    const params: PixelParams = { perturb: true, pert_color1: 20, pert_color2: 5, pert_color3: 0, pert_angle: 10, pert_min_scale: 0.8, pert_max_scale: 1.2, pert_hflip: true };
    const a = Array.from({ length: 200 }, ((rng) => () => samplePerturbation(rng, params))(seededRandom(3)));
    const b = Array.from({ length: 200 }, ((rng) => () => samplePerturbation(rng, params))(seededRandom(3)));
    assert.deepEqual(a, b);
    for (const p of a) {
      assert.ok(Number.isInteger(p.color[0]) && Math.abs(p.color[0]) <= 20);
      assert.ok(Math.abs(p.color[1]) <= 5);
      assert.equal(p.color[2], 0);
      assert.ok(Math.abs(p.angle) <= 10 && p.scale >= 0.8 && p.scale <= 1.2);
      assert.equal(p.vflip, false);
    }
    assert.ok(a.some((p) => p.hflip) && a.some((p) => !p.hflip));
    assert.ok(a.some((p) => p.color[0] === 20) && a.some((p) => p.color[0] === -20));
    let draws = 0;
    const counting = { nextU32: () => (draws++, 5), next: () => (draws++, 0.5) };
    samplePerturbation(counting, { perturb: true });
    assert.equal(draws, 9);
    draws = 0;
    assert.deepEqual(samplePerturbation(counting, { perturb: false }), NO_PERTURBATION);
    assert.equal(draws, 0);
  });

  test('the same seed gives byte-identical augmented samples', () => {
    const { image, annotation } = plate(80, 60, { x: 0.3, y: 0.3, w: 0.3, h: 0.3 });
    const params: PixelParams = { ...FULL, pert_color1: 20, pert_color2: 20, pert_color3: 20, pert_colorspace: 'HSV' };
    const run = () => {
      const rng = seededRandom(42);
      return Array.from({ length: 5 }, () => transformSample({ image, annotation }, params, samplePerturbation(rng, params)));
    };
    assert.deepEqual(run(), run());
  });
});
