// Prediction, XNN's unified interface (REFERENCE §2.3.1) for picpac-trained models:
// `loadModel(dir)` reads a model directory (WS/model or a snapshot), picks the backend and
// returns `{ predict(images) }` taking RGB(A)/gray pixels of any size, and hiding the backend,
// the input size, channel order, mean and scale recorded in model.json. Each prediction is the
// foreground heat map at the image's own size plus boxes (connected components of the
// thresholded map). `predictToDirectory` writes heat-map PNGs, overlays with the boxes and
// boxes.json for image files or the records of a database (optionally its held-out fold).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type * as tfTypes from '@tensorflow/tfjs';
import { openStore } from '../engine/open-store.ts';
import { Sampler, createSampleSlot } from '../augment/sampling/sampler.ts';
import { invalidParameterError } from '../errors.ts';
import { initBackend, tf } from './backend.ts';
import type { BackendChoice, BackendInfo } from './backend.ts';
import { foregroundProbability } from './batch-tensors.ts';
import { heatMapBoxes } from './evaluate.ts';
import type { Box } from './evaluate.ts';
import { loadModelFromDir } from './model-io.ts';
import type { ModelMeta } from './model-io.ts';

export interface ImageInput {
  /** Interleaved 8-bit pixels, RGB / RGBA / gray (as sharp's raw output). */
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

export interface ScoredBox extends Box {
  /** Mean foreground probability inside the box. */
  score: number;
}

export interface Prediction {
  /** Foreground probability per pixel, width × height of the input image. */
  heatMap: Float32Array;
  width: number;
  height: number;
  boxes: ScoredBox[];
}

export interface LoadedModel {
  meta: ModelMeta;
  backend: BackendInfo;
  predict(images: ImageInput[]): Promise<Prediction[]>;
  dispose(): void;
}

export interface LoadModelOptions {
  backend?: BackendChoice;
  /** Heat-map threshold for boxes (default 0.5). */
  threshold?: number;
}

/** Load a model directory written by `picpac train` (model.json + weights.bin). */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const threshold = options.threshold ?? 0.5;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold < 1)) throw invalidParameterError('threshold', 'a number in (0, 1)', threshold);
  const backend = await initBackend({ backend: options.backend });
  const { model, meta } = await loadModelFromDir(dir);
  if (meta === undefined) throw new Error(`${dir}/model.json was not written by picpac train (no picpac block): use tf.loadLayersModel directly`);
  return {
    meta,
    backend,
    async predict(images) {
      if (!Array.isArray(images)) throw invalidParameterError('images', 'an array of { data, width, height, channels }', images);
      const out: Prediction[] = [];
      for (const image of images) out.push(predictOne(model, meta, image, threshold));
      return out;
    },
    dispose() {
      model.dispose();
    },
  };
}

function predictOne(model: tfTypes.LayersModel, meta: ModelMeta, image: ImageInput, threshold: number): Prediction {
  const { data, width, height, channels } = image;
  if (!(data instanceof Uint8Array) || data.length !== width * height * channels || ![1, 3, 4].includes(channels)) {
    throw invalidParameterError('image', 'width × height × channels (1, 3 or 4) bytes', data?.length);
  }
  const heatMap = tf.tidy(() => {
    let x = tf.tensor3d(data, [height, width, channels], 'int32').toFloat();
    if (channels === 1) x = x.tile([1, 1, 3]);
    if (channels === 4) x = x.slice([0, 0, 0], [-1, -1, 3]);
    if (meta.channelOrder === 'BGR') x = x.reverse(2);
    const [H, W] = meta.inputSize;
    let batch = x.expandDims(0) as tfTypes.Tensor4D;
    if (H !== height || W !== width) batch = tf.image.resizeBilinear(batch, [H, W]);
    batch = batch.sub(tf.tensor1d(meta.mean)).mul(meta.inputScale);
    let prob = foregroundProbability(model.predict(batch) as tfTypes.Tensor4D, meta.loss);
    if (H !== height || W !== width) prob = tf.image.resizeBilinear(prob, [height, width]);
    return prob.dataSync() as Float32Array;
  });
  const boxes = heatMapBoxes(heatMap, width, height, { threshold }).map((b) => {
    let sum = 0;
    for (let y = b.y; y < b.y + b.height; y++) for (let x = b.x; x < b.x + b.width; x++) sum += heatMap[y * width + x];
    return { ...b, score: sum / (b.width * b.height) };
  });
  return { heatMap: new Float32Array(heatMap), width, height, boxes };
}

export interface PredictSource {
  /** Output base name (no extension). */
  name: string;
  /** Where the image came from (a file path, or db#recordIndex). */
  source: string;
  image: ImageInput;
}

/** Decode an image file (or encoded bytes) into RGB pixels. */
export async function decodeToRgb(input: string | Uint8Array): Promise<ImageInput> {
  const { data, info } = await sharp(input).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels as 3 };
}

/**
 * The images of a database: every record, or with split > 1 only the held-out fold `fold`
 * (same rule as the training stream: pass the run's seed).
 */
export async function* databaseImages(db: string, options: { split?: number; fold?: number; seed?: number; limit?: number } = {}): AsyncGenerator<PredictSource> {
  const store = await openStore(db);
  try {
    let indices: number[];
    const split = options.split ?? 1;
    if (split > 1) {
      const groups = new Float64Array(store.recordCount);
      for (let i = 0; i < groups.length; i++) groups[i] = store.meta(i).label;
      const sampler = new Sampler({ groups }, { split, split_fold: options.fold ?? 0, split_negate: true, loop: false, seed: options.seed ?? 2016 });
      const slot = createSampleSlot();
      indices = [];
      while (sampler.nextInto(slot)) indices.push(slot.recordIndex);
      indices.sort((a, b) => a - b);
    } else {
      indices = Array.from({ length: store.recordCount }, (_, i) => i);
    }
    if (options.limit !== undefined) indices = indices.slice(0, options.limit);
    const base = path.basename(db).replace(/\.[^.]+$/, '');
    for (const recordIndex of indices) {
      const record = await store.get(recordIndex);
      const field = record.fields.find((f) => f.kind === 'image');
      if (field === undefined) continue;
      yield { name: `${base}-${String(recordIndex).padStart(5, '0')}`, source: `${db}#${recordIndex}`, image: await decodeToRgb(field.bytes) };
    }
  } finally {
    await store.close();
  }
}

export async function* fileImages(paths: string[]): AsyncGenerator<PredictSource> {
  for (const file of paths) {
    yield { name: path.basename(file).replace(/\.[^.]+$/, ''), source: file, image: await decodeToRgb(file) };
  }
}

export interface PredictOutput {
  name: string;
  source: string;
  heatMapPath: string;
  overlayPath: string;
  width: number;
  height: number;
  boxes: ScoredBox[];
}

/** Heat map as an 8-bit gray PNG. */
export async function heatMapPng(prediction: Prediction): Promise<Buffer> {
  const gray = new Uint8Array(prediction.width * prediction.height);
  for (let i = 0; i < gray.length; i++) gray[i] = Math.round(Math.min(1, Math.max(0, prediction.heatMap[i])) * 255);
  return sharp(gray, { raw: { width: prediction.width, height: prediction.height, channels: 1 } }).toColourspace('b-w').png().toBuffer();
}

/** The image with the heat map tinted red and the boxes drawn (green), as PNG. */
export async function overlayPng(image: ImageInput, prediction: Prediction): Promise<Buffer> {
  const { width, height } = prediction;
  const tint = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    tint[i * 4] = 255;
    tint[i * 4 + 1] = 40;
    tint[i * 4 + 2] = 40;
    tint[i * 4 + 3] = Math.round(Math.min(1, Math.max(0, prediction.heatMap[i])) * 140);
  }
  const stroke = Math.max(1, Math.round(Math.min(width, height) / 128));
  const rects = prediction.boxes.map((b) =>
    `<rect x="${b.x + stroke / 2}" y="${b.y + stroke / 2}" width="${Math.max(1, b.width - stroke)}" height="${Math.max(1, b.height - stroke)}" fill="none" stroke="#00ff66" stroke-width="${stroke}"/>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${rects}</svg>`;
  const tintPng = await sharp(tint, { raw: { width, height, channels: 4 } }).png().toBuffer();
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .composite([{ input: tintPng }, { input: Buffer.from(svg) }])
    .png()
    .toBuffer();
}

/** Predict every source; write NAME.heat.png, NAME.overlay.png and boxes.json into outDir. */
export async function predictToDirectory(model: LoadedModel, sources: AsyncIterable<PredictSource>, outDir: string): Promise<PredictOutput[]> {
  await mkdir(outDir, { recursive: true });
  const outputs: PredictOutput[] = [];
  for await (const s of sources) {
    const [prediction] = await model.predict([s.image]);
    const heatMapPath = path.join(outDir, `${s.name}.heat.png`);
    const overlayPath = path.join(outDir, `${s.name}.overlay.png`);
    await writeFile(heatMapPath, await heatMapPng(prediction));
    await writeFile(overlayPath, await overlayPng(s.image, prediction));
    outputs.push({ name: s.name, source: s.source, heatMapPath, overlayPath, width: prediction.width, height: prediction.height, boxes: prediction.boxes });
  }
  const json = outputs.map((o) => ({
    name: o.name, source: o.source, width: o.width, height: o.height, heatMap: path.basename(o.heatMapPath), overlay: path.basename(o.overlayPath),
    boxes: o.boxes.map((b) => ({ x: b.x, y: b.y, width: b.width, height: b.height, score: Number(b.score.toFixed(4)) })),
  }));
  await writeFile(path.join(outDir, 'boxes.json'), JSON.stringify(json, null, 2) + '\n');
  return outputs;
}
