// Training-stream throughput next to the original C++ PicPac (REFERENCE §4.1), on the same kind
// of data and configuration: crops of the real photographs with 1–3 synthetic plates pasted in
// (JPEG q90, annotation JSON rect shapes), imported aligned to 4096 like the original's default;
// streamed with cache 0, stratify 0, batch 1, threads 1 and 2, decode only and with full
// augmentation. Then a per-stage breakdown in one thread (read, decode, rasterize, warp, colour,
// batch) so the next gain is visible. Writes bench/results/stream.json.
//
//   npm run bench -- stream [--quick]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { OverlayOptions } from 'sharp';
import { openStore } from '../src/engine/open-store.ts';
import { PicpacWriter } from '../src/engine/picpac/picpac-writer.ts';
import { RNG_TAG, Rng } from '../src/engine/rng.ts';
import { batchLayout, allocImages, allocLabels, imageElementCount, labelElementCount, sampleShapeOf, writeImage, writeLabelMap } from '../src/augment/stream/batch.ts';
import { additiveColorLut, parseColorSpace } from '../src/augment/pixels/color.ts';
import { parseStreamConfig } from '../src/augment/config.ts';
import { decodeField } from '../src/augment/stream/sample-pipeline.ts';
import { planSample, prepareSample, samplePerturbation } from '../src/augment/stream/sample-transform.ts';
import type { PixelParams } from '../src/augment/stream/sample-transform.ts';
import { ImageStream } from '../src/augment/stream/stream.ts';
import { warpImage, warpLabel } from '../src/augment/pixels/warp.ts';
import { cacheDir, cacheVersion, machineLine, photoSet, repoRoot } from './lib/photo-set.ts';
import { median } from './lib/measure.ts';

const quick = process.argv.includes('--quick');

/** CPU busy fraction of the whole machine over `ms` (from /proc/stat; 0 when unavailable). */
async function machineBusy(ms: number): Promise<number> {
  const read = () => {
    try {
      const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
      const values = fields.map(Number);
      return { idle: values[3] + values[4], total: values.reduce((a, b) => a + b, 0) };
    } catch {
      return { idle: 0, total: 0 };
    }
  };
  const a = read();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = read();
  return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
}

/**
 * The machine is shared: before each measurement wait (up to 90 s) until other processes use
 * less than 10 % of the CPUs, and report what they used, so a row measured under contention
 * is visible as such.
 */
async function waitForQuiet(): Promise<number> {
  const deadline = Date.now() + 90_000;
  let busy = await machineBusy(500);
  while (busy > 0.1 && Date.now() < deadline) busy = await machineBusy(1000);
  return busy;
}
const RUNS = quick ? 1 : 3;

const FULL = {
  annotate: 'json', perturb: 1, pert_angle: 20, pert_min_scale: 0.8, pert_max_scale: 1.2,
  pert_color1: 20, pert_color2: 20, pert_color3: 20, pert_hflip: 1,
} as const;
const BASE = { cache: 0, stratify: 0, batch: 1, loop: 1 } as const;

/** A synthetic licence plate: light background, dark border and glyph-like bars. */
function plate(width: number, height: number, rand: () => number): Buffer {
  const data = Buffer.alloc(width * height * 3);
  const bg = 200 + Math.floor(rand() * 55);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const border = x < 2 || y < 2 || x >= width - 2 || y >= height - 2;
      const glyph = y > height * 0.25 && y < height * 0.75 && Math.floor(x / Math.max(2, width / 14)) % 2 === 1;
      const v = border || glyph ? 20 : bg;
      data.set([v, v, v - 10 < 0 ? 0 : v - 10], (y * width + x) * 3);
    }
  }
  return data;
}

/** The §4.1 dataset: photo crops with plates pasted, in an aligned .picpac (cached). */
async function dataset(count: number, width: number, height: number): Promise<{ path: string; jpegBytes: number; origin: string }> {
  const path = join(cacheDir, `stream-plates-${cacheVersion}-${width}x${height}-${count}.picpac`);
  const photos = await photoSet(count, width, height, 90);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const rng = new Rng(4242); // seeded plate placement
    const rand = () => rng.next();
    const writer = await PicpacWriter.create(path + '.tmp', { alignment: 4096, overwrite: true, fsyncOnClose: false });
    for (const file of photos.files) {
      const plates = 1 + Math.floor(rand() * 3);
      const composites: OverlayOptions[] = [];
      const shapes: unknown[] = [];
      for (let k = 0; k < plates; k++) {
        const pw = Math.max(12, Math.round(width * (0.15 + rand() * 0.2)));
        const ph = Math.max(6, Math.round(pw * 0.3));
        const left = Math.floor(rand() * (width - pw));
        const top = Math.floor(rand() * (height - ph));
        composites.push({ input: plate(pw, ph, rand), raw: { width: pw, height: ph, channels: 3 }, left, top });
        shapes.push({ type: 'rect', geometry: { x: left / width, y: top / height, width: pw / width, height: ph / height } });
      }
      const bytes = await sharp(readFileSync(file)).composite(composites).jpeg({ quality: 90, mozjpeg: false }).toBuffer();
      await writer.append({ label: 0, fields: [{ kind: 'image', bytes: new Uint8Array(bytes) }], annotation: JSON.stringify({ shapes }) });
    }
    await writer.close();
    const { rename } = await import('node:fs/promises');
    await rename(path + '.tmp', path);
  }
  const store = await openStore(path);
  let jpegBytes = 0;
  for (let i = 0; i < store.recordCount; i++) jpegBytes += store.meta(i).byteLength;
  await store.close();
  return { path, jpegBytes, origin: photos.origin };
}

async function throughput(path: string, config: Record<string, unknown>, samples: number, reuseBuffers: boolean): Promise<{ perSecond: number; megabytesPerSecond: number; copied: number; mainBusyPct: number }> {
  const rates: number[] = [];
  const mbs: number[] = [];
  const busy: number[] = [];
  let copied = 0;
  for (let run = 0; run < RUNS; run++) {
    await waitForQuiet();
    const stream = await ImageStream.open(path, { ...BASE, ...config }, { reuseBuffers });
    for (let i = 0; i < 50; i++) await stream.next(); // warm-up (workers' JIT, page cache)
    const start = performance.now();
    const elu = performance.eventLoopUtilization();
    let bytes = 0;
    for (let i = 0; i < samples; i++) bytes += (await stream.next())!.images.byteLength;
    const seconds = (performance.now() - start) / 1000;
    busy.push(performance.eventLoopUtilization(elu).utilization * 100);
    rates.push(samples / seconds);
    mbs.push(bytes / 2 ** 20 / seconds);
    copied = (await stream.stats()).copiedBatches;
    await stream.close();
  }
  return { perSecond: median(rates), megabytesPerSecond: median(mbs), copied, mainBusyPct: median(busy) };
}

/**
 * One thread, every stage timed on its own, with the stream's kernels: read (started one sample
 * ahead, as the workers do), decode, rasterize (prepareSample: channels, resize, JSON raster),
 * warp (geometry of image and label), colour (the extra cost of the colour table fused into the
 * image warp: warp with the table minus warp without), batch (float32 BGR NHWC + label map).
 */
async function stages(path: string, config: Record<string, unknown>, samples: number): Promise<Record<string, number>> {
  const c = parseStreamConfig({ ...BASE, ...config });
  const params = c as unknown as PixelParams;
  const layout = batchLayout(c);
  const store = await openStore(path);
  const t = { read: 0, decode: 0, rasterize: 0, warp: 0, colour: 0, batch: 0 };
  let images: Float32Array | Uint8Array | undefined;
  let labels: Float32Array | undefined;
  let nextRecord = store.get(0);
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const record = await nextRecord;
    nextRecord = store.get((i + 1) % store.recordCount);
    const t1 = performance.now();
    const image = await decodeField(record.fields[0], i, -1, 0);
    const t2 = performance.now();
    const prepared = prepareSample({ image, annotation: c.annotate === 'json' ? record.annotation : undefined, recordIndex: i }, params);
    const t3 = performance.now();
    const perturbation = samplePerturbation(new Rng(c.seed, RNG_TAG.perturb, 0, i), params);
    const plan = planSample(prepared.image.width, prepared.image.height, params, perturbation);
    let out = prepared.image;
    let outLabel = prepared.label;
    if (c.perturb) {
      const lut = additiveColorLut(perturbation.color, parseColorSpace(c.pert_colorspace), prepared.image.channels);
      const w0 = performance.now();
      warpImage(prepared.image, plan);
      const w1 = performance.now();
      outLabel = prepared.label && warpLabel(prepared.label, plan, prepared.labelBounds ? { sourceBounds: prepared.labelBounds } : {});
      const w2 = performance.now();
      out = warpImage(prepared.image, plan, lut ? { lut } : {});
      const w3 = performance.now();
      t.warp += (w1 - w0) + (w2 - w1);
      t.colour += Math.max(0, (w3 - w2) - (w1 - w0));
    }
    const t5 = performance.now();
    const shape = sampleShapeOf(out, outLabel, layout);
    if (images === undefined || images.length < imageElementCount(shape)) {
      images = allocImages(imageElementCount(shape) * 2, layout, false);
      labels = allocLabels(Math.max(1, labelElementCount(shape, layout)) * 2, false);
    }
    writeImage(out, layout, images, 0);
    if (outLabel) writeLabelMap(outLabel, layout, labels!, 0);
    const t6 = performance.now();
    t.read += t1 - t0; t.decode += t2 - t1; t.rasterize += t3 - t2; t.batch += t6 - t5;
  }
  await nextRecord;
  await store.close();
  const total = Object.values(t).reduce((a, b) => a + b, 0);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(t)) {
    out[`${k}MsPerImage`] = +(v / samples).toFixed(3);
    out[`${k}Pct`] = +((100 * v) / total).toFixed(1);
  }
  out.totalMsPerImage = +(total / samples).toFixed(3);
  return out;
}

const small = await dataset(2000, 256, 256);
const large = await dataset(1000, 500, 375);
console.log(`# stream bench — ${machineLine()}`);
console.log(`data: ${small.origin}; plates pasted, JPEG q90, aligned 4096; runs: median of ${RUNS}`);

// reuseBuffers: a training loop copies each batch into a tensor, so the stream may recycle its
// buffers (the fast path); one row shows the default (fresh buffers per batch) for comparison.
const cases = [
  { data: small, name: '256x256 decode only', config: {}, threads: 1, reuse: true, original: undefined },
  { data: small, name: '256x256 decode only', config: {}, threads: 2, reuse: true, original: 2800 },
  { data: small, name: '256x256 decode only', config: {}, threads: 2, reuse: false, original: 2800 },
  { data: small, name: '256x256 full augmentation + JSON', config: FULL, threads: 1, reuse: true, original: 700 },
  { data: small, name: '256x256 full augmentation + JSON', config: FULL, threads: 2, reuse: true, original: 1250 },
  { data: large, name: '500x375 decode only', config: {}, threads: 2, reuse: true, original: 1100 },
  { data: large, name: '500x375 decode only, dtype uint8', config: { dtype: 'uint8' }, threads: 2, reuse: true, original: 1100 },
  { data: large, name: '500x375 full augmentation + JSON', config: FULL, threads: 1, reuse: true, original: undefined },
  { data: large, name: '500x375 full augmentation + JSON', config: FULL, threads: 2, reuse: true, original: 415 },
];
const rows = [];
console.log('\n| dataset / configuration | threads | reuseBuffers | images/s | MB/s out | main thread busy | original images/s | ratio |');
console.log('|---|---|---|---|---|---|---|---|');
for (const k of cases) {
  const samples = quick ? 300 : k.data === small ? 2000 : 1000;
  const otherLoad = await waitForQuiet();
  const r = await throughput(k.data.path, { ...k.config, threads: k.threads }, samples, k.reuse);
  const ratio = k.original ? r.perSecond / k.original : undefined;
  rows.push({ case: k.name, threads: k.threads, reuseBuffers: k.reuse, imagesPerSecond: Math.round(r.perSecond), outMBps: Math.round(r.megabytesPerSecond), mainThreadBusyPct: Math.round(r.mainBusyPct), otherLoadPctBefore: Math.round(otherLoad * 100), original: k.original ?? null, ratio: ratio === undefined ? null : +ratio.toFixed(2) });
  console.log(`| ${k.name} | ${k.threads} | ${k.reuse} | ${Math.round(r.perSecond)} | ${Math.round(r.megabytesPerSecond)} | ${Math.round(r.mainBusyPct)}% | ${k.original ?? '—'} | ${ratio === undefined ? '—' : ratio.toFixed(2)} |`);
}

const breakdown = [];
console.log('\nPer-stage cost, one thread, in-process (ms/image and share):');
for (const [name, data, config] of [['256x256 decode only', small, {}], ['256x256 full augmentation + JSON', small, FULL], ['500x375 full augmentation + JSON', large, FULL]] as const) {
  await waitForQuiet();
  const s = await stages(data.path, config, quick ? 200 : 600);
  breakdown.push({ case: name, ...s });
  const parts = ['read', 'decode', 'rasterize', 'warp', 'colour', 'batch'].map((k) => `${k} ${s[`${k}MsPerImage`].toFixed(3)} (${s[`${k}Pct`]}%)`);
  console.log(`  ${name}: total ${s.totalMsPerImage.toFixed(3)} ms — ${parts.join(', ')}`);
}

const result = {
  bench: 'stream',
  machine: machineLine(),
  command: `npm run bench -- stream${quick ? ' --quick' : ''}`,
  data: small.origin,
  datasets: { '256x256': { records: 2000, avgKB: +(small.jpegBytes / 2000 / 1024).toFixed(1) }, '500x375': { records: 1000, avgKB: +(large.jpegBytes / 1000 / 1024).toFixed(1) } },
  configuration: { base: BASE, fullAugmentation: FULL },
  rows,
  breakdown,
};
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/stream.json'), JSON.stringify(result, null, 2) + '\n');
console.log('\nwrote bench/results/stream.json');
