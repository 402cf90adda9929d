// Shared test helpers for the pixel kernels (not a test file itself).
import type { Image } from '../../src/augment/pixels/image.ts';
import type { RandomSource } from '../../src/augment/stream/sample-transform.ts';
import { Rng } from '../../src/engine/rng.ts';
import { batchLayout } from '../../src/augment/stream/batch.ts';
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
