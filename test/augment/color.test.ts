// Colour jitter and conversions: OpenCV 8-bit HSV/Lab formulas, round trips, the BGR meaning of
// the deltas on our RGB images, saturation, SAME, grey, regions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hsvToRgb, jitterColorInPlace, labToRgb, parseColorSpace, rgbToHsv, rgbToLab } from '../../src/augment/pixels/color.ts';
import type { Image } from '../../src/augment/pixels/image.ts';
import { makeImage, pixel } from './helpers.ts';

/** Every 5th value on each axis: 52³ colours. */
function colourCube(): Image {
  const steps = Array.from({ length: 52 }, (_, i) => Math.min(255, i * 5));
  const n = steps.length;
  return makeImage(n * n, n, 3, (x, y, c) => (c === 0 ? steps[x % n] : c === 1 ? steps[Math.floor(x / n)] : steps[y]));
}

function roundTripStats(a: Image, b: Image): { withinTwo: number; worst: number } {
  let ok = 0;
  let worst = 0;
  for (let i = 0; i < a.data.length; i += 3) {
    let d = 0;
    for (let k = 0; k < 3; k++) d = Math.max(d, Math.abs(a.data[i + k] - b.data[i + k]));
    if (d <= 2) ok++;
    worst = Math.max(worst, d);
  }
  return { withinTwo: ok / (a.data.length / 3), worst };
}

function maxDiff(a: Image, b: Image): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

describe('colour conversions (OpenCV 8-bit formulas)', () => {
  test('known HSV values: H in [0, 180), S and V in [0, 255]', () => {
    const img: Image = { width: 4, height: 1, channels: 3, data: Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255, 128, 128, 128) };
    assert.deepEqual(Array.from(rgbToHsv(img).data), [0, 255, 255, 60, 255, 255, 120, 255, 255, 0, 0, 128]);
  });

  test('known Lab values: white (255, 128, 128), black (0, 128, 128), red ≈ (136, 208, 195)', () => {
    const img: Image = { width: 3, height: 1, channels: 3, data: Uint8Array.of(255, 255, 255, 0, 0, 0, 255, 0, 0) };
    const lab = Array.from(rgbToLab(img).data);
    assert.deepEqual(lab.slice(0, 6), [255, 128, 128, 0, 128, 128]);
    assert.ok(Math.abs(lab[6] - 136) <= 1 && Math.abs(lab[7] - 208) <= 1 && Math.abs(lab[8] - 195) <= 1, String(lab.slice(6)));
  });

  // 8-bit HSV and Lab are lossy by construction (OpenCV's too): H moves in 2° steps, and one
  // unit of a/b near a saturated channel's zero is amplified by the sRGB gamma slope. The ±2
  // bound therefore holds for greys and the bulk of colours, with a bounded worst case.
  test('BGR → HSV → BGR round trip: ±2 for ≥ 90 % of the colour cube, ≤ 5 worst case, greys ±1', () => {
    const cube = colourCube();
    const { withinTwo, worst } = roundTripStats(cube, hsvToRgb(rgbToHsv(cube)));
    assert.ok(withinTwo >= 0.9, `within ±2: ${withinTwo}`);
    assert.ok(worst <= 5, `worst ${worst}`);
    const greys = makeImage(256, 1, 3, (x) => x);
    assert.ok(maxDiff(hsvToRgb(rgbToHsv(greys)), greys) <= 1);
  });

  test('BGR → Lab → BGR round trip: ±2 for ≥ 85 % of the colour cube, ≤ 24 worst case, greys ±1', () => {
    const cube = colourCube();
    const { withinTwo, worst } = roundTripStats(cube, labToRgb(rgbToLab(cube)));
    assert.ok(withinTwo >= 0.85, `within ±2: ${withinTwo}`);
    assert.ok(worst <= 24, `worst ${worst}`);
    const greys = makeImage(256, 1, 3, (x) => x);
    assert.ok(maxDiff(labToRgb(rgbToLab(greys)), greys) <= 1);
  });

  test('float round trips are near exact', () => {
    const f: Image = { width: 3, height: 1, channels: 3, data: Float32Array.of(0.2, 0.5, 0.9, 1, 0, 0, 0.3, 0.3, 0.3) };
    assert.ok(maxDiff(hsvToRgb(rgbToHsv(f)), f) < 1e-5);
    assert.ok(maxDiff(labToRgb(rgbToLab(f)), f) < 1e-3);
    assert.throws(() => rgbToHsv({ width: 1, height: 1, channels: 1, data: Uint8Array.of(1) }), TypeError);
  });
});

describe('jitterColorInPlace', () => {
  test('"BGR" deltas keep the original meaning on RGB storage, and saturate', () => {
    const img = makeImage(1, 1, 3, (_x, _y, c) => [250, 100, 3][c]); // R 250, G 100, B 3
    jitterColorInPlace(img, [-10, 5, 20], 'BGR'); // B −10, G +5, R +20
    assert.deepEqual(pixel(img, 0, 0), [255, 105, 0]);
  });

  test('SAME adds delta[0] to all three; grey images get delta[0]; alpha untouched', () => {
    const img = makeImage(1, 1, 3, () => 100);
    jitterColorInPlace(img, [7, 50, 50], 'SAME');
    assert.deepEqual(pixel(img, 0, 0), [107, 107, 107]);
    const grey = makeImage(2, 1, 1, () => 10);
    jitterColorInPlace(grey, [-20, 5, 5], 'HSV');
    assert.deepEqual(Array.from(grey.data), [0, 0]);
    const rgba = makeImage(1, 1, 4, () => 100);
    jitterColorInPlace(rgba, [1, 2, 3], 'BGR');
    assert.deepEqual(pixel(rgba, 0, 0), [103, 102, 101, 100]);
  });

  test('HSV: +V brightens a grey, +H rotates the hue of red towards yellow/green', () => {
    const grey = makeImage(1, 1, 3, () => 100);
    jitterColorInPlace(grey, [0, 0, 20], 'HSV');
    assert.deepEqual(pixel(grey, 0, 0), [120, 120, 120]);
    const red = makeImage(1, 1, 3, (_x, _y, c) => (c === 0 ? 255 : 0));
    jitterColorInPlace(red, [30, 0, 0], 'HSV'); // +60°: yellow
    assert.deepEqual(pixel(red, 0, 0), [255, 255, 0]);
  });

  test('the fused HSV and Lab jitter equal convert → saturating add → convert back', () => {
    const cube = colourCube();
    for (const [space, to, from] of [['HSV', rgbToHsv, hsvToRgb], ['Lab', rgbToLab, labToRgb]] as const) {
      for (const delta of [[7, -30, 12], [200, 0, -3], [-9, 40, 0]] as const) {
        const viaConversions = to(cube);
        for (let i = 0; i < viaConversions.data.length; i++) {
          viaConversions.data[i] = Math.min(255, Math.max(0, viaConversions.data[i] + delta[i % 3]));
        }
        const expected = from(viaConversions);
        const fused = jitterColorInPlace({ ...cube, data: cube.data.slice() }, delta, space);
        assert.ok(maxDiff(fused, expected) <= 1, `${space} ${delta}: ${maxDiff(fused, expected)}`);
      }
    }
  });

  test('Lab: +L brightens; zero delta leaves the image untouched', () => {
    const img = makeImage(1, 1, 3, () => 100);
    jitterColorInPlace(img, [20, 0, 0], 'Lab');
    const [r, g, b] = pixel(img, 0, 0);
    assert.ok(r > 110 && Math.abs(r - g) <= 1 && Math.abs(g - b) <= 1, String([r, g, b]));
    const same = makeImage(2, 2, 3, (x, y, c) => x * 50 + y * 20 + c * 30);
    const copy = same.data.slice();
    jitterColorInPlace(same, [0, 0, 0], 'Lab');
    assert.deepEqual(same.data, copy);
  });

  test('the region limits the pass; 16-bit saturates at 65535; float adds freely', () => {
    const img = makeImage(3, 1, 1, () => 10);
    jitterColorInPlace(img, [5, 0, 0], 'BGR', { left: 1, top: 0, right: 2, bottom: 1 });
    assert.deepEqual(Array.from(img.data), [10, 15, 10]);
    const u16: Image = { width: 1, height: 1, channels: 1, data: Uint16Array.of(65530) };
    jitterColorInPlace(u16, [10, 0, 0]);
    assert.equal(u16.data[0], 65535);
    const f: Image = { width: 1, height: 1, channels: 3, data: Float32Array.of(1, 2, 3) };
    jitterColorInPlace(f, [-5, 0, 0]);
    assert.deepEqual(Array.from(f.data), [1, 2, -2]);
    jitterColorInPlace(f, [10, 0, 0], 'HSV'); // float HSV: H in degrees
    assert.ok(f.data.every((v) => Number.isFinite(v)));
  });

  test('pert_colorspace names', () => {
    assert.equal(parseColorSpace(''), 'BGR');
    assert.equal(parseColorSpace('Lab'), 'Lab');
    assert.throws(() => parseColorSpace('lab'), /Expected one of "", "BGR", "HSV", "Lab", "SAME" for pert_colorspace/);
  });
});
