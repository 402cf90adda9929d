// The calibration of the stream bench (REFERENCE §4.1.1): libjpeg-turbo's one-core decode rate of
// the very files the stream reads — `decompressSync` of @julusian/jpeg-turbo into a preallocated
// buffer, BGR, on the calling thread. The original C++ PicPac's throughput was measured side by
// side as a ratio to this rate, so ours is compared through it on whatever machine runs the bench.
import { createRequire } from 'node:module';

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

/**
 * Images/s of one core decoding `jpegs`: the fastest of `passes` timed passes after a warm-up
 * pass. The fastest, not the median: the reference is the decoder's speed, and on a shared VM a
 * pass is only ever slowed by others (the first row's median once came out 35 % below the
 * others'); a higher reference only makes the stream's ratios smaller.
 */
export function referenceDecodeRate(jpegs: readonly Uint8Array[], passes: number): number {
  const turbo = require('@julusian/jpeg-turbo') as JpegTurbo;
  // A Node Buffer: the binding returns out.slice(0, size), which copies a plain Uint8Array (a
  // JS-side copy, not decoding) and aliases a Buffer.
  const out = Buffer.allocUnsafeSlow(2048 * 2048 * 3); // the bench's images are ≤ 500×375
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
  return Math.max(...rates);
}

/**
 * Images/s of `threads` worker threads decoding `jpegs` at the same time (libjpeg-turbo as
 * above, each thread into its own Buffer): the machine's real decode ceiling for T threads. It is
 * not always T × the one-core rate: on a shared virtual machine two vCPUs may decode less than
 * twice as fast as one, and a stream row is judged against what the decoder itself reaches there.
 * With `floatBatch`, each decoded image is also written as float32 into a batch buffer (two in
 * turn, the most cache-friendly a consumer can make it) with the native uint8 → float32 copy
 * into PRIVATE memory (into a SharedArrayBuffer V8 makes that copy ~7× slower): the least work
 * any float32 stream must do per sample, in its best case — an upper bound on what a "decode
 * only" row can reach.
 * Each thread warms up, then all start together on a shared flag; rate = all images ÷ the
 * slowest thread's time, the fastest of `passes` (as for the one-core reference).
 */
export async function parallelReferenceDecodeRate(jpegs: readonly Uint8Array[], threads: number, passes: number, options: { floatBatch?: boolean } = {}): Promise<number> {
  const { Worker } = await import('node:worker_threads');
  const turboPath = require.resolve('@julusian/jpeg-turbo');
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const turbo = require(workerData.turboPath);
    const out = Buffer.allocUnsafeSlow(2048 * 2048 * 3);
    const flag = new Int32Array(workerData.flag);
    const batches = workerData.floatBatch ? Array.from({ length: 2 }, () => new Float32Array(2048 * 2048 * 3)) : [];
    const decodeAll = () => {
      let i = 0;
      for (const j of workerData.jpegs) {
        const r = turbo.decompressSync(j, out, { format: turbo.FORMAT_BGR });
        if (batches.length > 0) batches[i++ % 2].set(out.subarray(0, r.width * r.height * 3));
      }
    };
    decodeAll();
    for (let p = 0; p < workerData.passes; p++) {
      Atomics.add(flag, 1, 1); // ready
      Atomics.wait(flag, 0, p); // start of pass p when flag[0] > p
      const t = performance.now();
      decodeAll();
      parentPort.postMessage({ pass: p, ms: performance.now() - t });
    }`;
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const times: number[][] = Array.from({ length: passes }, () => []);
  const workerData = { jpegs, passes, turboPath, flag: flag.buffer, floatBatch: options.floatBatch === true };
  const workers = Array.from({ length: threads }, () => new Worker(source, { eval: true, workerData }));
  const done = Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
    let seen = 0;
    w.on('message', (m: { pass: number; ms: number }) => {
      times[m.pass].push(m.ms);
      if (++seen === passes) resolve();
    });
    w.on('error', reject);
  })));
  for (let p = 0; p < passes; p++) {
    while (Atomics.load(flag, 1) < threads * (p + 1)) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, 20)); // every thread is parked in Atomics.wait
    Atomics.store(flag, 0, p + 1);
    Atomics.notify(flag, 0);
    while (times[p].length < threads) await new Promise((r) => setTimeout(r, 2));
  }
  await done;
  await Promise.all(workers.map((w) => w.terminate()));
  return Math.max(...times.map((t) => (threads * jpegs.length) / (Math.max(...t) / 1000)));
}
