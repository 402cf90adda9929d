// The stream's memory budget (docs/hostile-input.md). Every parameter has a documented range,
// but combinations inside those ranges could ask for tens of gigabytes (`--onehot 65535
// --annotate json`: a 65535-channel float label per pixel; `--min_size 16384`; a scale of 100;
// 256 threads; batches of 4096). Before any worker starts or any buffer is allocated, this module
// computes, from the parameters and the largest image sizes in the store's index:
//
//   sample output bytes  O = output pixels × (channels × 1|4 bytes + label bytes per pixel), or
//                            the per-image label (4 bytes, or onehot × 4)
//   sample work bytes    W = decoded + resized + label raster + warped image and label + O:
//                            the transient peak of one sample inside a worker
//   total                  = threads × (W + WORKER_OVERHEAD_BYTES) + (in-flight + 3·batch) × O
//
// (the 3 batches: the one being filled in place, the one being gathered by copying, the one
// the caller holds). The total must fit `memory_bytes`. The sample cache is bounded on its own
// by `cache_bytes` and is not part of this sum.
//
// What does not fit is clamped where the output cannot change — threads (results are identical
// for every thread count) and the prefetch depth — with a warning; what cannot be clamped (one
// sample or one batch too large) is refused with a MemoryBudgetError that names the parameter
// responsible and the bytes it would need.
import { availableParallelism } from 'node:os';
import type { StreamConfig } from '../config-schema.ts';
import { resizeTarget } from '../pixels/resize.ts';

/** Per worker thread: a V8 isolate, the module graph, decoder state (measured 30–60 MiB with tsx). */
export const WORKER_OVERHEAD_BYTES = 64 << 20;
/** Threads beyond this many per CPU only cost memory and start-up time (each decodes on one core). */
export const THREADS_PER_CPU = 4;
/** Bytes per decoded pixel assumed before the channel count is known (RGBA, 8-bit). */
const DECODED_BYTES_PER_PIXEL = 4;

/** A parameter combination that cannot run within memory_bytes. */
export class MemoryBudgetError extends RangeError {
  /** The stream parameter named as responsible. */
  readonly parameter: string;
  readonly neededBytes: number;
  readonly budgetBytes: number;
  constructor(parameter: string, message: string, neededBytes: number, budgetBytes: number) {
    super(message);
    this.name = 'MemoryBudgetError';
    this.parameter = parameter;
    this.neededBytes = neededBytes;
    this.budgetBytes = budgetBytes;
  }
}

/** Stored image sizes the plan is computed for (distinct width × height pairs of field 0). */
export interface ImageSizes {
  sizes: Iterable<{ width: number; height: number }>;
}

export interface MemoryPlan {
  budgetBytes: number;
  /** Largest sample in the batch tensors (image + label), bytes. */
  sampleOutputBytes: number;
  /** Largest transient working set of one sample inside a worker, bytes. */
  sampleWorkBytes: number;
  /** Worker threads to start (config.threads, or fewer when clamped). */
  threads: number;
  /** Samples in flight at most (prefetch bound in bytes, converted to a count). */
  maxInFlight: number;
  /** Bytes the plan accounts for at most. */
  plannedBytes: number;
  /** Clamps made, for the stream's warnings. */
  notes: string[];
}

interface SampleBytes {
  output: number;
  work: number;
  /** Output size in pixels (w × h) and the sizes along the way, for messages. */
  outWidth: number;
  outHeight: number;
  loadedWidth: number;
  loadedHeight: number;
}

const MiB = 2 ** 20;

/** "4.0 GiB", "201.3 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  return `${Math.round(bytes)} bytes`;
}

/** OpenCV anno_type → bytes per label pixel (channels × depth). */
function annoPixelBytes(annoType: number): number {
  const depth = annoType & 7;
  const channels = (annoType >> 3) + 1;
  return channels * (depth === 0 ? 1 : depth === 2 ? 2 : 4);
}

/** Bytes of one sample of a `width × height` stored image under `c`. */
export function sampleBytes(c: StreamConfig, width: number, height: number): SampleBytes {
  const images = Math.max(1, c.multi_images);
  const channels = c.channels > 0 ? c.channels : 3;
  const decoded = width * height * DECODED_BYTES_PER_PIXEL * images;
  const loaded = resizeTarget(width, height, { resizeWidth: c.resize_width, resizeHeight: c.resize_height, minSize: c.min_size, maxSize: c.max_size });
  const loadedPixels = loaded.width * loaded.height;
  const perPixelLabel = c.annotate !== '';
  const labelRaster = c.annotate === 'json' || c.annotate === 'image' ? loadedPixels * annoPixelBytes(c.anno_type) : 0;
  // Perturbation scale: the largest scale the stream can draw sets the canvas.
  const scale = c.perturb ? c.pert_max_scale : 1;
  let outWidth = scale === 1 ? loaded.width : Math.max(1, Math.round(loaded.width * scale));
  let outHeight = scale === 1 ? loaded.height : Math.max(1, Math.round(loaded.height * scale));
  if (c.crop_width > 0 && c.crop_height > 0) {
    outWidth = c.crop_width;
    outHeight = c.crop_height;
  }
  if (c.round_div > 0) {
    outWidth = Math.max(0, outWidth - ((outWidth - c.round_mod) % c.round_div + c.round_div) % c.round_div);
    outHeight = Math.max(0, outHeight - ((outHeight - c.round_mod) % c.round_div + c.round_div) % c.round_div);
  }
  const outPixels = outWidth * outHeight;
  const valueBytes = c.dtype === 'uint8' ? 1 : 4;
  let labelBytes: number;
  if (!perPixelLabel) labelBytes = c.onehot > 0 ? c.onehot * 4 : 4;
  else if (c.onehot > 0) labelBytes = outPixels * c.onehot * 4;
  else labelBytes = outPixels * (c.annotate === 'auto' ? channels : Math.max(1, (c.anno_type >> 3) + 1)) * 4;
  const output = outPixels * channels * valueBytes * images + labelBytes;
  const warped = outPixels * channels * images + (labelRaster > 0 ? outPixels * annoPixelBytes(c.anno_type) : 0);
  const work = decoded + loadedPixels * channels * images + labelRaster + warped + output;
  return { output, work, outWidth, outHeight, loadedWidth: loaded.width, loadedHeight: loaded.height };
}

/** The largest sample over the stored sizes (a fixed-size output when no size is known). */
function largestSample(c: StreamConfig, sizes: readonly { width: number; height: number }[]): SampleBytes & { width: number; height: number } {
  let best: (SampleBytes & { width: number; height: number }) | undefined;
  for (const { width, height } of sizes) {
    const s = sampleBytes(c, width, height);
    if (best === undefined || s.work > best.work || s.output > best.output) best = { ...s, width, height };
  }
  // No stored size known: only sizes the parameters fix (resize, crop) can be planned.
  return best ?? { ...sampleBytes(c, 0, 0), width: 0, height: 0 };
}

/** Parameters that enlarge one sample, with the neutral value that undoes each (checked in this order). */
const SAMPLE_SIZE_PARAMETERS: ReadonlyArray<readonly [keyof StreamConfig, Partial<Record<keyof StreamConfig, unknown>>]> = [
  ['onehot', { onehot: 0 }],
  ['min_size', { min_size: -1 }],
  ['resize_width', { resize_width: -1, resize_height: -1 }],
  ['pert_max_scale', { pert_max_scale: 1, pert_min_scale: 1 }],
  ['crop_width', { crop_width: -1, crop_height: -1 }],
  ['multi_images', { multi_images: 1 }],
  ['anno_type', { anno_type: 0 }],
];

/** The first parameter whose neutral value makes the sample fit (undefined: the stored image itself is too large). */
function culprit(c: StreamConfig, sizes: readonly { width: number; height: number }[], fits: (s: SampleBytes) => boolean): string | undefined {
  for (const [name, neutral] of SAMPLE_SIZE_PARAMETERS) {
    if (Object.entries(neutral).every(([k, v]) => c[k as keyof StreamConfig] === v)) continue;
    if (fits(largestSample({ ...c, ...neutral } as StreamConfig, sizes))) return name;
  }
  return undefined;
}

/**
 * Plan the stream's memory, or throw MemoryBudgetError. `sizes` are the distinct stored image
 * sizes (width × height of field 0; zeros are ignored).
 */
export function planStreamMemory(c: StreamConfig, stored: ImageSizes, cpus = availableParallelism()): MemoryPlan {
  const sizes = [...stored.sizes].filter((s) => s.width > 0 && s.height > 0);
  const budget = c.memory_bytes;
  const B = c.batch;
  const s = largestSample(c, sizes);
  const resized = s.loadedWidth !== s.width || s.loadedHeight !== s.height;
  const changed = resized || s.outWidth !== s.width || s.outHeight !== s.height;
  const image = s.width === 0 ? ` (output ${s.outWidth}×${s.outHeight})`
    : !changed ? ` (the largest stored image is ${s.width}×${s.height})`
      : ` (the largest stored image, ${s.width}×${s.height}, becomes ${s.outWidth}×${s.outHeight}${resized && (s.loadedWidth !== s.outWidth || s.loadedHeight !== s.outHeight) ? ` after resizing to ${s.loadedWidth}×${s.loadedHeight}` : ''})`;
  const refuse = (parameter: string, needed: number, what: string): never => {
    const value = parameter === 'image size' ? '' : ` ${JSON.stringify(c[parameter as keyof StreamConfig])}`;
    const remedy = parameter === 'image size' ? 'set max_size or resize_width/resize_height, or raise memory_bytes' : `lower ${parameter} or raise memory_bytes`;
    throw new MemoryBudgetError(parameter,
      `${parameter === 'image size' ? 'the stored images' : parameter}${value}: ${what} needs ${formatBytes(needed)}${image}, ` +
      `more than the stream's memory budget memory_bytes = ${formatBytes(budget)}; ${remedy}`, needed, budget);
  };
  // Samples in flight at least: a batch, and two per worker (the stream's own floor).
  const minInFlight = (threads: number, batch: number) => (threads === 0 ? Math.max(batch, 2) : Math.max(batch, 2 * threads));
  const total = (x: SampleBytes, threads: number, batch: number) =>
    Math.max(threads, 1) * (x.work + WORKER_OVERHEAD_BYTES) + (minInFlight(threads, batch) + 3 * batch) * x.output;
  const fewest = Math.min(c.threads, 1);
  // One sample (in one worker, in flight and in the batch tensors) must fit, then one batch.
  const sampleFits = (x: SampleBytes) => total(x, fewest, 1) <= budget;
  if (!sampleFits(s)) refuse(culprit(c, sizes, sampleFits) ?? 'image size', total(s, fewest, 1), 'one sample');
  if (total(s, fewest, B) > budget) refuse('batch', total(s, fewest, B), `a batch of ${B} samples (${formatBytes(s.output)} each)`);
  const notes: string[] = [];
  // Threads: as many as fit (the output is the same for any count).
  let threads = c.threads;
  if (threads > THREADS_PER_CPU * cpus) {
    notes.push(`threads ${threads} lowered to ${THREADS_PER_CPU * cpus} (${THREADS_PER_CPU} per CPU, ${cpus} CPUs): more only cost memory (the output is the same for any thread count)`);
    threads = THREADS_PER_CPU * cpus;
  }
  if (threads > 1 && total(s, threads, B) > budget) {
    let fit = threads;
    while (fit > 1 && total(s, fit, B) > budget) fit--;
    notes.push(`threads ${threads} lowered to ${fit}: each worker may hold ${formatBytes(s.work + WORKER_OVERHEAD_BYTES)} and each sample in flight ${formatBytes(s.output)}, within memory_bytes ${formatBytes(budget)} (the output is the same for any thread count)`);
    threads = fit;
  }
  // Prefetch: samples in flight bounded by bytes, never below the floor (the stream must progress).
  const workers = Math.max(1, threads) * (s.work + WORKER_OVERHEAD_BYTES);
  const byBytes = Math.floor((budget - workers) / Math.max(1, s.output)) - 3 * B;
  const maxInFlight = Math.max(minInFlight(threads, B), byBytes);
  const inFlight = Math.min(maxInFlight, Math.max(c.preload, minInFlight(threads, B)));
  const plannedBytes = workers + (inFlight + 3 * B) * s.output;
  return { budgetBytes: budget, sampleOutputBytes: s.output, sampleWorkBytes: s.work, threads, maxInFlight, plannedBytes, notes };
}

/** Distinct sizes of field 0 over the records of `stores` (from the index: no record is read). */
export function storedImageSizes(stores: ReadonlyArray<{ recordCount: number; meta(i: number): { width: number; height: number } } | undefined>): ImageSizes {
  const seen = new Map<number | string, { width: number; height: number }>();
  for (const store of stores) {
    if (store === undefined) continue;
    for (let i = 0; i < store.recordCount; i++) {
      const { width, height } = store.meta(i);
      // A number key while both sides are below 2^20 (exact, fast); text beyond.
      const key = width < 2 ** 20 && height < 2 ** 20 ? width * 2 ** 20 + height : `${width}x${height}`;
      if (!seen.has(key)) seen.set(key, { width, height });
    }
  }
  return { sizes: seen.values() };
}
