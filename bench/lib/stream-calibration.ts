// The calibration of the stream bench (REFERENCE §4.1.1): libjpeg-turbo's one-core decode rate of
// the very files the stream reads — `decompressSync` of @julusian/jpeg-turbo into a preallocated
// buffer, BGR, on the calling thread. The original C++ PicPac's throughput was measured side by
// side as a ratio to this rate, so ours is compared through it on whatever machine runs the bench.
import { createRequire } from 'node:module';
import { median } from './measure.ts';

const require = createRequire(import.meta.url);

interface JpegTurbo {
  FORMAT_BGR: number;
  decompressSync(image: Uint8Array, out: Uint8Array, options: { format: number }): { width: number; height: number };
}

/**
 * The original's throughput ÷ this calibration, measured side by side on a 2-core Intel Xeon
 * host (REFERENCE §4.1.1), per case and thread count.
 */
export const ORIGINAL_RATIO = {
  '256x256 decode only': { 1: 0.41, 2: 0.79 },
  '256x256 full augmentation + JSON': { 1: 0.19, 2: 0.30 },
  '500x375 full augmentation + JSON': { 1: 0.155, 2: 0.28 },
} as const;
export type StreamCase = keyof typeof ORIGINAL_RATIO;

/** Images/s of one core decoding `jpegs` (median of `passes` timed passes after a warm-up pass). */
export function referenceDecodeRate(jpegs: readonly Uint8Array[], passes: number): number {
  const turbo = require('@julusian/jpeg-turbo') as JpegTurbo;
  const out = new Uint8Array(2048 * 2048 * 3); // the bench's images are ≤ 500×375
  const decodeAll = () => {
    for (const jpeg of jpegs) turbo.decompressSync(jpeg, out, { format: turbo.FORMAT_BGR });
  };
  decodeAll(); // warm-up: code and data in cache, allocator settled
  const rates: number[] = [];
  for (let p = 0; p < passes; p++) {
    const start = performance.now();
    decodeAll();
    rates.push(jpegs.length / ((performance.now() - start) / 1000));
  }
  return median(rates);
}
