// The calibration of the stream bench (REFERENCE §4.1.1): libjpeg-turbo's one-core decode rate of
// the very files the stream reads — `decompressSync` of @julusian/jpeg-turbo into a preallocated
// buffer, BGR, on the calling thread. The original C++ PicPac's throughput was measured side by
// side as a ratio to this rate, so ours is compared through it on whatever machine runs the bench.
import { createRequire } from 'node:module';
import { fastestNodeSeconds } from './picpac-cli.ts';

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
 * Each thread warms up, then all start together on a shared flag; rate = all images ÷ the
 * slowest thread's time, the fastest of `passes` (as for the one-core reference).
 */
export async function parallelReferenceDecodeRate(jpegs: readonly Uint8Array[], threads: number, passes: number): Promise<number> {
  const { Worker } = await import('node:worker_threads');
  const turboPath = require.resolve('@julusian/jpeg-turbo');
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const turbo = require(workerData.turboPath);
    const out = Buffer.allocUnsafeSlow(2048 * 2048 * 3);
    const flag = new Int32Array(workerData.flag);
    const decodeAll = () => {
      for (const j of workerData.jpegs) turbo.decompressSync(j, out, { format: turbo.FORMAT_BGR });
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
  const workerData = { jpegs, passes, turboPath, flag: flag.buffer };
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

/**
 * Images/s of decode-floor.cjs as a whole process (spawn to exit, like a `picpac stream` row),
 * fastest of `runs`, in both of its modes: a bare `node` process whose `threads` workers decode
 * `samples` of `jpegs` with libjpeg-turbo and write each as float32 into one of two private batch
 * buffers (the most cache-friendly a consumer can make it; into a SharedArrayBuffer V8's native
 * uint8 → float32 copy is ~7× slower). `decode`: nothing else — what a float32 decode-only stream
 * would reach if all its other costs were zero (the floor). `read`: each worker also preads every
 * record from a file, computes its CRC-32C and posts one message per 8 samples — the leanest
 * complete stream loop, without picpac's own code to load and compile, its sampler or its record
 * format. The JPEGs are written once, to a temporary file both modes read.
 */
export async function wholeProcessFloorRates(jpegs: readonly Uint8Array[], threads: number, samples: number, runs: number): Promise<{ decode: number; read: number }> {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'picpac-floor-'));
  try {
    const offsets: [number, number][] = [];
    let offset = 0;
    for (const jpeg of jpegs) {
      offsets.push([offset, jpeg.length]);
      offset += jpeg.length;
    }
    writeFileSync(join(dir, 'jpegs'), Buffer.concat(jpegs));
    writeFileSync(join(dir, 'offsets.json'), JSON.stringify(offsets));
    const script = new URL('./decode-floor.cjs', import.meta.url).pathname;
    const rate = async (mode: 'decode' | 'read') =>
      samples / await fastestNodeSeconds([script, mode, String(threads), String(samples), join(dir, 'jpegs'), join(dir, 'offsets.json')], runs);
    return { decode: await rate('decode'), read: await rate('read') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
