// Per-stage cost of the v1 per-sample pipeline on one core (256×256 JPEG q90 photographs, or
// 500×375 with --size 500x375): decode, warp (rotate+scale+crop, fused), colour jitter,
// rasterise, flip/crop copy, and the full chain. The "full augmentation" configuration is
// REFERENCE §4.1's: annotate json, perturb, angle 20, scale 0.8–1.2, colour 20/20/20, hflip.
// --threads N additionally runs the full chain on N worker_threads (each its share of the
// images, repeated) to show multi-core throughput.
// Run: node --import tsx bench/augment-stages.ts [--size 500x375] [--count 300] [--threads 2]
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { decodeImageSync } from '../src/augment/pixels/decode.ts';
import { additiveColorLut, jitterColorInPlace } from '../src/augment/pixels/color.ts';
import { cloneImage } from '../src/augment/pixels/image.ts';
import type { Image } from '../src/augment/pixels/image.ts';
import { parseAnnotation } from '../src/augment/annotation.ts';
import { rasterizeAnnotation } from '../src/augment/pixels/rasterize.ts';
import { augmentSample, prepareSample, samplePerturbation } from '../src/augment/stream/sample-transform.ts';
import type { PixelParams } from '../src/augment/stream/sample-transform.ts';
import { planGeometry, warpImage, warpLabel } from '../src/augment/pixels/warp.ts';
import { setWarpBackend, warpBackend } from '../src/augment/pixels/warp-simd.ts';
import { Rng } from '../src/engine/rng.ts';
import { photoSet } from './lib/photo-set.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const [width, height] = arg('--size', '256x256').split('x').map(Number);
const count = Number(arg('--count', '300'));
const threads = Number(arg('--threads', '0'));

const FULL: PixelParams = {
  annotate: 'json', perturb: true, pert_angle: 20, pert_min_scale: 0.8, pert_max_scale: 1.2,
  pert_color1: 20, pert_color2: 20, pert_color3: 20, pert_hflip: true,
};

function annotationFor(i: number): string {
  // 1–3 "plates" per image, like the §4.1 dataset.
  const r = new Rng(i);
  const shapes = Array.from({ length: 1 + (i % 3) }, () => ({
    type: 'rect', label: 1, geometry: { x: 0.1 + 0.5 * r.next(), y: 0.1 + 0.5 * r.next(), width: 0.1 + 0.2 * r.next(), height: 0.05 + 0.1 * r.next() },
  }));
  return JSON.stringify({ shapes });
}

function measure(name: string, rounds: number, items: number, body: () => void): { name: string; msPerImage: number } {
  body(); // warm-up
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    body();
    best = Math.min(best, (performance.now() - t0) / items);
  }
  return { name, msPerImage: best };
}

/** Worker body: one warm-up pass, then `repeat` timed passes of decode + full augmentation. */
function fullChainWorker(files: Uint8Array[], annotations: string[], repeat: number, seed: number): { done: number; seconds: number } {
  const random = new Rng(seed);
  const pass = () => {
    for (let i = 0; i < files.length; i++) {
      const image = decodeImageSync(files[i]);
      augmentSample(prepareSample({ image, annotation: annotations[i] }, FULL), FULL, samplePerturbation(random, FULL));
    }
  };
  pass();
  const t0 = performance.now();
  for (let r = 0; r < repeat; r++) pass();
  return { done: repeat * files.length, seconds: (performance.now() - t0) / 1000 };
}

/**
 * A worker entry that registers tsx inside the worker, then imports the TypeScript module:
 * under Node 20 a worker does not inherit the parent's `--import tsx` loader hooks.
 */
function tsWorkerUrl(moduleUrl: string): URL {
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(moduleUrl)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

async function threaded(files: Uint8Array[], annotations: string[], threadCount: number): Promise<number> {
  const repeat = 5;
  const results = await Promise.all(Array.from({ length: threadCount }, (_, t) => new Promise<{ done: number; seconds: number }>((resolve, reject) => {
    const mine = files.filter((_, i) => i % threadCount === t);
    const w = new Worker(tsWorkerUrl(import.meta.url), { workerData: { files: mine, annotations: annotations.filter((_, i) => i % threadCount === t), repeat, seed: t } });
    w.once('message', (r: { done: number; seconds: number }) => { void w.terminate(); resolve(r); });
    w.once('error', reject);
  })));
  // Timed loops overlap (all start after similar warm-ups); the slowest thread bounds the rate.
  return results.reduce((a, r) => a + r.done, 0) / Math.max(...results.map((r) => r.seconds));
}

async function main(): Promise<void> {
  const set = await photoSet(width === 256 ? 2000 : 1000, width, height);
  const files = set.files.slice(0, count).map((f) => new Uint8Array(readFileSync(f)));
  const annotations = files.map((_, i) => annotationFor(i));
  const decoded: Image[] = files.map((b) => decodeImageSync(b));
  const random = new Rng(2016);
  const perturbations = files.map(() => samplePerturbation(random, FULL));
  const plans = decoded.map((img, i) => planGeometry(img.width, img.height, { angle: perturbations[i].angle, scale: perturbations[i].scale, hflip: perturbations[i].hflip }));
  const warped = decoded.map((img, i) => warpImage(img, plans[i]));
  const parsed = annotations.map((a) => parseAnnotation(a));
  const labels = parsed.map((a) => rasterizeAnnotation(a, width, height));
  const flipCrop = planGeometry(width, height, { hflip: true, cropWidth: width - 32, cropHeight: height - 32, randomOffsets: true, shiftX: 12345, shiftY: 678 });
  const rounds = 5;
  const n = files.length;
  const rows = [
    measure('decode (@napi-rs/image, sync)', rounds, n, () => { for (const b of files) decodeImageSync(b); }),
    measure('warp image: rotate+scale (bilinear, fused)', rounds, n, () => { for (let i = 0; i < n; i++) warpImage(decoded[i], plans[i]); }),
    measure('warp image + fused BGR colour table (the hot path)', rounds, n, () => {
      for (let i = 0; i < n; i++) warpImage(decoded[i], plans[i], { lut: additiveColorLut(perturbations[i].color, 'BGR', 3)! });
    }),
    measure('warp label: rotate+scale (nearest)', rounds, n, () => { for (let i = 0; i < n; i++) warpLabel(labels[i], plans[i]); }),
    measure('warp label, JS loop (reference for the wasm label kernel)', rounds, n, () => {
      setWarpBackend('js');
      for (let i = 0; i < n; i++) warpLabel(labels[i], plans[i]);
      setWarpBackend('auto');
    }),
    measure('colour jitter BGR ±20 (in place)', rounds, n, () => { for (let i = 0; i < n; i++) jitterColorInPlace(warped[i], perturbations[i].color, 'BGR'); }),
    measure('colour jitter HSV ±20 (in place)', rounds, n, () => { for (let i = 0; i < n; i++) jitterColorInPlace(warped[i], perturbations[i].color, 'HSV'); }),
    measure('colour jitter Lab ±20 (in place)', rounds, n, () => { for (let i = 0; i < n; i++) jitterColorInPlace(warped[i], perturbations[i].color, 'Lab'); }),
    measure('parse annotation JSON', rounds, n, () => { for (const a of annotations) parseAnnotation(a); }),
    measure('rasterise 1-3 rects (8UC1)', rounds, n, () => { for (const a of parsed) rasterizeAnnotation(a, width, height); }),
    measure('flip + random crop (exact copy)', rounds, n, () => { for (const img of decoded) warpImage(img, flipCrop); }),
    measure('clone (memcpy reference)', rounds, n, () => { for (const img of decoded) cloneImage(img); }),
    measure('augment only (prepare + augment, decoded input)', rounds, n, () => {
      for (let i = 0; i < n; i++) augmentSample(prepareSample({ image: decoded[i], annotation: annotations[i] }, FULL), FULL, perturbations[i]);
    }),
    measure('FULL CHAIN: decode + parse + rasterise + warp both + colour', rounds, n, () => {
      for (let i = 0; i < n; i++) {
        const image = decodeImageSync(files[i]);
        augmentSample(prepareSample({ image, annotation: annotations[i] }, FULL), FULL, perturbations[i]);
      }
    }),
  ];
  console.log(`# ${width}x${height}, ${n} images (${set.origin}), node ${process.version}, ${cpus().length} cores, one thread, best of ${rounds} rounds, warp/batch kernels: ${warpBackend()} (PICPAC_WARP=js for the JS ones)`);
  console.log('| stage | ms/image | images/s (one core) |\n|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.msPerImage.toFixed(3)} | ${(1000 / r.msPerImage).toFixed(0)} |`);
  if (threads > 0) {
    const rate = await threaded(files, annotations, threads);
    console.log(`| FULL CHAIN on ${threads} worker_threads | ${(1000 / rate).toFixed(3)} (wall, all threads) | ${rate.toFixed(0)} (all threads) |`);
  }
}

if (isMainThread) await main();
else {
  const { files, annotations, repeat, seed } = workerData as { files: Uint8Array[]; annotations: string[]; repeat: number; seed: number };
  parentPort!.postMessage(fullChainWorker(files, annotations, repeat, seed));
}
