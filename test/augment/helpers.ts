// Shared test helpers for the pixel kernels (not a test file itself).
import type { Image } from '../../src/augment/pixels/image.ts';
import type { RandomSource } from '../../src/augment/stream/sample-transform.ts';
import { Rng } from '../../src/engine/rng.ts';
import { batchLayout, writeImage, writeLabelMap } from '../../src/augment/stream/batch.ts';
import type { BatchLayout } from '../../src/augment/stream/batch.ts';
import { parseStreamConfig } from '../../src/augment/config.ts';

/** The batch layout of flat stream parameters. */
export function layoutOf(config: Record<string, unknown>): BatchLayout {
  return batchLayout(parseStreamConfig(config));
}

/** The bytes of a float32 tensor (exact comparison, NaN and −0 included). */
export function float32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** `count` deterministic, well-mixed bytes (a pixel pattern for batch tests). */
export function patternBytes(count: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => (i * 37 + seed * 11 + (i >> 3)) & 255);
}

/**
 * A JSON-label sample (8-bit RGB image, 8-bit label of `labelChannels`, pattern pixels from
 * `seed`) and what writeImage / writeLabelMap make of it as place `index` of `places` places
 * that hold `fill` elsewhere: the reference of the staged and shared-memory conversions.
 */
export function referenceSample(o: {
  width: number; height: number; places: number; index: number; seed: number; mean: readonly number[]; rgb: boolean; labelChannels: number; fill: number;
}) {
  const { width, height, places, index, seed, mean, fill } = o;
  const layout = layoutOf({ annotate: 'json', mean_color1: mean[0], mean_color2: mean[1], mean_color3: mean[2], bgr2rgb: o.rgb });
  const image: Image = { width, height, channels: 3, data: patternBytes(width * height * 3, seed) };
  const label: Image = { width, height, channels: o.labelChannels as 1 | 3, data: patternBytes(width * height * o.labelChannels, seed + 1) };
  const per = width * height * 3;
  const perLabel = width * height * o.labelChannels;
  const expected = new Float32Array(per * places).fill(fill);
  const expectedLabels = new Float32Array(perLabel * places).fill(fill);
  writeImage(image, layout, expected, index);
  writeLabelMap(label, layout, expectedLabels, index);
  return { layout, image, label, per, perLabel, expected, expectedLabels };
}

/** The dtype uint8 twin of referenceSample: an 8-bit RGB image and writeImage's bytes of it at place `index`. */
export function referenceUint8Sample(o: { width: number; height: number; places: number; index: number; seed: number; rgb: boolean; fill: number }) {
  const layout = layoutOf({ dtype: 'uint8', bgr2rgb: o.rgb });
  const image: Image = { width: o.width, height: o.height, channels: 3, data: patternBytes(o.width * o.height * 3, o.seed) };
  const per = o.width * o.height * 3;
  const expected = new Uint8Array(per * o.places).fill(o.fill);
  writeImage(image, layout, expected, o.index);
  return { layout, image, per, expected };
}

/** Deterministic RandomSource: the engine's seeded generator. */
export function seededRandom(seed: number): RandomSource {
  return new Rng(seed);
}

/** A w×h image filled by f(x, y, c). */
export function makeImage(width: number, height: number, channels: 1 | 3 | 4, f: (x: number, y: number, c: number) => number): Image {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = f(x, y, c);
  return { width, height, channels, data };
}

export function pixel(image: Image, x: number, y: number): number[] {
  const o = (y * image.width + x) * image.channels;
  return Array.from(image.data.subarray(o, o + image.channels));
}

/** Number of pixels whose channel 0 satisfies the predicate. */
export function countPixels(image: Image, predicate: (v: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < image.data.length; i += image.channels) if (predicate(image.data[i])) n++;
  return n;
}

/** Binary mask (1 byte per pixel) of channel 0 > threshold. */
export function mask(image: Image, threshold: number): Uint8Array {
  const m = new Uint8Array(image.width * image.height);
  for (let p = 0; p < m.length; p++) m[p] = image.data[p * image.channels] > threshold ? 1 : 0;
  return m;
}

export function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i] & b[i];
    union += a[i] | b[i];
  }
  return union === 0 ? 1 : inter / union;
}

/** Every pixel set in `a` but not in `b` lies within `radius` (Chebyshev) of a pixel set in `b`. */
export function withinRadius(a: Uint8Array, b: Uint8Array, width: number, height: number, radius: number): boolean {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!a[y * width + x] || b[y * width + x]) continue;
      let found = false;
      for (let dy = -radius; dy <= radius && !found; dy++) {
        for (let dx = -radius; dx <= radius && !found; dx++) {
          const xx = x + dx, yy = y + dy;
          if (xx >= 0 && yy >= 0 && xx < width && yy < height && b[yy * width + xx]) found = true;
        }
      }
      if (!found) return false;
    }
  }
  return true;
}
