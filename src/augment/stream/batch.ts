// Batch assembly (v1 BatchImageStream, REFERENCE §1.3.1 step 6): where each transformed sample's
// pixels go in the batch tensors. Workers call the write* functions to put sample i straight
// into the shared batch buffer, so the main thread never touches pixels.
//
// Images: NHWC or NCHW; Float32 minus mean_color1..3, or raw Uint8 (dtype 'uint8', no mean).
// Channel order: the original's BGR by default, RGB with bgr2rgb (in either layout: quirk 6
// fixed). mean_color1..3 keep the original's BGR meaning whatever the output order.
// Labels (always Float32): per image — the record label (B) or one-hot (B, N); per pixel — the
// label raster as floats (B, H, W, C) / (B, C, H, W), or per-pixel one-hot (B, H, W, N) /
// (B, N, H, W) from channel 0 (a value outside [0, N) gives an all-zero pixel: "ignore").
// annotate=auto: the label is the augmented image with the mean subtracted (as v1 did).
import { PicpacError, invalidParameterError } from '../../errors.ts';
import { rgb8PermuteForward, rgb8PermuteWasm, rgb8ToFloatBackward, rgb8ToFloatWasm } from '../pixels/batch-simd.ts';
import type { SharedConverter } from '../pixels/convert-simd.ts';
import { BGR_TO_RGB_INDEX } from '../pixels/image.ts';
import type { Image } from '../pixels/image.ts';
import type { StreamConfig } from '../config-schema.ts';

export type LabelKind = 'scalar' | 'onehot' | 'map' | 'pixel-onehot';

/** What a batch looks like, from the flat parameters (frozen, structured-cloneable). */
export interface BatchLayout {
  order: 'NHWC' | 'NCHW';
  dtype: 'float32' | 'uint8';
  /** Output RGB (bgr2rgb) instead of BGR. */
  rgb: boolean;
  /** mean_color1..3, in the original's BGR meaning. */
  mean: [number, number, number];
  onehot: number;
  labelKind: LabelKind;
  /** annotate = 'auto': the label map is the image (mean subtracted). */
  autoLabel: boolean;
}

/** Pixel shape of one sample: image H×W×C and, for per-pixel labels, its channel count. */
export interface SampleShape {
  height: number;
  width: number;
  channels: number;
  /** Channels of the per-pixel label tensor (label channels, or N for one-hot); 0 for per-image labels. */
  labelChannels: number;
  /** Images per sample (multi_images n; absent = 1): they are stacked along the batch axis. */
  imageCount?: number;
}

export function batchLayout(config: StreamConfig): BatchLayout {
  const perPixel = config.annotate !== '';
  const labelKind: LabelKind = perPixel ? (config.onehot > 0 ? 'pixel-onehot' : 'map') : config.onehot > 0 ? 'onehot' : 'scalar';
  return Object.freeze({
    order: config.order,
    dtype: config.dtype,
    rgb: config.bgr2rgb,
    mean: [config.mean_color1, config.mean_color2, config.mean_color3] as [number, number, number],
    onehot: config.onehot,
    labelKind,
    autoLabel: config.annotate === 'auto',
  });
}

/** Shape of a transformed sample in this layout. */
export function sampleShapeOf(image: Image, label: Image | undefined, layout: BatchLayout, imageCount = 1): SampleShape {
  let labelChannels = 0;
  if (layout.labelKind === 'pixel-onehot') labelChannels = layout.onehot;
  else if (layout.labelKind === 'map') labelChannels = layout.autoLabel ? image.channels : (label?.channels ?? 1);
  const shape: SampleShape = { height: image.height, width: image.width, channels: image.channels, labelChannels };
  if (imageCount !== 1) shape.imageCount = imageCount;
  return shape;
}

export function sameShape(a: SampleShape, b: SampleShape): boolean {
  return a.height === b.height && a.width === b.width && a.channels === b.channels && a.labelChannels === b.labelChannels &&
    (a.imageCount ?? 1) === (b.imageCount ?? 1);
}

/** Elements of one sample's image(s). */
export function imageElementCount(shape: SampleShape): number {
  return shape.height * shape.width * shape.channels * (shape.imageCount ?? 1);
}

/** Elements of one sample's label (per-pixel map, one-hot row, or 1). */
export function labelElementCount(shape: SampleShape, layout: BatchLayout): number {
  if (layout.labelKind === 'scalar') return 1;
  if (layout.labelKind === 'onehot') return layout.onehot;
  return shape.height * shape.width * shape.labelChannels;
}

/** [count·n, H, W, C] or [count·n, C, H, W]: a multi_images sample's n images are n rows of the batch. */
export function imageBatchShape(count: number, shape: SampleShape, layout: BatchLayout): number[] {
  const rows = count * (shape.imageCount ?? 1);
  return layout.order === 'NHWC' ? [rows, shape.height, shape.width, shape.channels] : [rows, shape.channels, shape.height, shape.width];
}

export function labelBatchShape(count: number, shape: SampleShape, layout: BatchLayout): number[] {
  if (layout.labelKind === 'scalar') return [count];
  if (layout.labelKind === 'onehot') return [count, layout.onehot];
  return layout.order === 'NHWC' ? [count, shape.height, shape.width, shape.labelChannels] : [count, shape.labelChannels, shape.height, shape.width];
}

export function allocImages(elementCount: number, layout: BatchLayout, shared: boolean): Float32Array | Uint8Array {
  const bytes = elementCount * (layout.dtype === 'uint8' ? 1 : 4);
  const buffer = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  return layout.dtype === 'uint8' ? new Uint8Array(buffer) : new Float32Array(buffer);
}

export function allocLabels(elementCount: number, shared: boolean): Float32Array {
  return new Float32Array(shared ? new SharedArrayBuffer(elementCount * 4) : new ArrayBuffer(elementCount * 4));
}

/** Output channel k reads input channel map[k] and subtracts mean[k]. */
function channelPlan(channels: number, layout: BatchLayout, subtractMean: boolean): { map: number[]; mean: number[] } {
  const map: number[] = [];
  const mean: number[] = [];
  for (let k = 0; k < channels; k++) {
    if (channels >= 3 && k < 3) {
      // BGR output: out k is BGR channel k = our RGB index BGR_TO_RGB_INDEX[k]; RGB output: out k = in k, whose BGR index is 2 - k.
      map.push(layout.rgb ? k : BGR_TO_RGB_INDEX[k]);
      mean.push(subtractMean ? layout.mean[layout.rgb ? 2 - k : k] : 0);
    } else {
      map.push(k);
      mean.push(subtractMean && channels < 3 && k === 0 ? layout.mean[0] : 0);
    }
  }
  return { map, mean };
}

function toByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

/**
 * Write `image` as sample `index` of the batch tensor `target` (layout order/dtype/channel order,
 * mean subtracted for float32). `target` must hold at least (index + 1) samples of this shape.
 * @param [shared] this thread's converter when `target` is a view of its shared memory (batch-arena.ts)
 */
export function writeImage(image: Image, layout: BatchLayout, target: Float32Array | Uint8Array, index: number, shared?: SharedConverter): void {
  const { width, height, channels } = image;
  const pixels = width * height;
  const per = pixels * channels;
  const base = index * per;
  if (base + per > target.length) throw invalidParameterError('target', `a batch tensor of at least ${base + per} elements`, target.length);
  const src = image.data;
  const float = target instanceof Float32Array;
  const { map, mean } = channelPlan(channels, layout, float);
  const identity = map.every((m, k) => m === k) && mean.every((m) => m === 0);
  // 8-bit RGB into the shared memory always takes its wasm kernels: a JS set() stores into a
  // SharedArrayBuffer several times slower (pixels/convert-simd.ts).
  const sharedRgb = shared !== undefined && channels === 3 && src instanceof Uint8Array;
  if (layout.order === 'NHWC' && identity && !sharedRgb && (float || src instanceof Uint8Array)) {
    (target as Float32Array).set(src.length === per ? src : src.subarray(0, per), base); // native copy/conversion
    return;
  }
  if (layout.order === 'NHWC') {
    if (channels === 3 && src instanceof Uint8Array) {
      if (float) {
        if (shared?.rgbToFloat(src, target as Float32Array, base, per, map, mean)) return;
        if (!rgb8ToFloatWasm(src, target as Float32Array, base, per, map, mean)) rgb8ToFloatBackward(src, target as Float32Array, base, 0, per, map, mean);
      } else if (shared !== undefined) {
        shared.rgbPermute(src, target as Uint8Array, base, per, map);
      } else if (!rgb8PermuteWasm(src, target as Uint8Array, base, per, map)) {
        rgb8PermuteForward(src, target as Uint8Array, base, 0, per, map);
      }
      return;
    }
    for (let p = 0, i = 0, o = base; p < pixels; p++, i += channels, o += channels) {
      for (let k = 0; k < channels; k++) target[o + k] = float ? src[i + map[k]] - mean[k] : byteOf(src, i + map[k]);
    }
    return;
  }
  // NCHW: one plane per output channel.
  for (let k = 0; k < channels; k++) {
    const from = map[k];
    const m = mean[k];
    const plane = base + k * pixels;
    if (float) {
      const dst = target as Float32Array;
      for (let p = 0, i = from; p < pixels; p++, i += channels) dst[plane + p] = src[i] - m;
    } else {
      for (let p = 0, i = from; p < pixels; p++, i += channels) target[plane + p] = byteOf(src, i);
    }
  }
}

// ----- staged conversion (the caller's half; worker-pool.ts) -----
//
// When a core is free for the calling thread (fewer workers than cores), a worker may leave the
// conversion of its sample to the caller, as the original's BatchImageStream did in next(): the
// worker's 8-bit pixels sit at the START of the sample's place in the batch tensor (a decode-only
// sample is decoded straight there: stagingView), and the caller finishes them in place — float32
// minus the means, or uint8 in the output channel order. The float32 loops run back to front
// (pixel p's float bytes start at 12p ≥ 3p, past every source byte still unread; the private
// wasm kernel copies its source in first), the uint8 ones front to back reading each pixel
// before writing it. Only the hot layout is staged — NHWC, 8-bit 3-channel images, 8-bit label
// maps — with writeImage's and writeLabelMap's exact bytes.

/**
 * Bytes at the start of place `index` of a batch tensor whose places hold `per` elements; with
 * `per` undefined (batch 1: any sample that fits), place 0 and the whole tensor.
 */
export function stagingView(target: Float32Array | Uint8Array, index: number, per: number | undefined): Uint8Array {
  if (per === undefined) return new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
  return new Uint8Array(target.buffer, target.byteOffset + target.BYTES_PER_ELEMENT * index * per, per);
}

/** True when `data` already is the staging bytes of element `base` of `target`. */
function staged(data: Uint8Array, target: Float32Array | Uint8Array, base: number): boolean {
  return data.buffer === target.buffer && data.byteOffset === target.byteOffset + target.BYTES_PER_ELEMENT * base;
}

/** The element count of `image` as sample `index` when its layout is staged and it fits `target`, else 0. */
function stagedCount(image: Image, layout: BatchLayout, target: Float32Array | Uint8Array, index: number): number {
  if (layout.order !== 'NHWC' || image.channels !== 3 || !(image.data instanceof Uint8Array)) return 0;
  const per = image.width * image.height * 3;
  return (index + 1) * per <= target.length ? per : 0;
}

/** True when `image` was decoded straight into the staging bytes of sample `index` (stagingView). */
export function isStagedIn(image: Image, layout: BatchLayout, target: Float32Array | Uint8Array, index: number): boolean {
  const per = stagedCount(image, layout, target, index);
  return per > 0 && staged(image.data as Uint8Array, target, index * per);
}

/**
 * Stage `image` as sample `index` for the caller to finish (float32: convert; uint8: order the
 * channels); false (nothing written) when its layout is not staged.
 */
export function stageImage(image: Image, layout: BatchLayout, target: Float32Array | Uint8Array, index: number): boolean {
  const per = stagedCount(image, layout, target, index);
  if (per === 0) return false;
  const data = image.data as Uint8Array;
  if (!staged(data, target, index * per)) stagingView(target, index, per).set(data.length === per ? data : data.subarray(0, per));
  return true;
}

/**
 * Convert a staged image in place: what writeImage would have written.
 * @param [shared] this thread's converter when `target` is a view of its shared memory (batch-arena.ts)
 */
export function finishStagedImage(shape: SampleShape, layout: BatchLayout, target: Float32Array | Uint8Array, index: number, shared?: SharedConverter): void {
  const per = shape.width * shape.height * 3;
  const base = index * per;
  if (target instanceof Uint8Array) {
    permuteInPlace(target, base, per, channelPlan(3, layout, false).map, shared);
    return;
  }
  const { map, mean } = channelPlan(3, layout, true);
  if (shared?.rgbToFloatInPlace(target, base, per, map, mean)) return;
  const src = stagingView(target, index, per);
  if (!rgb8ToFloatWasm(src, target, base, per, map, mean)) rgb8ToFloatBackward(src, target, base, 0, per, map, mean);
}

/** dtype uint8: the staged pixels in the output channel order, in place (each pixel read before it is written). */
function permuteInPlace(target: Uint8Array, base: number, per: number, map: readonly number[], shared: SharedConverter | undefined): void {
  if (map[0] === 0 && map[1] === 1 && map[2] === 2) return;
  if (shared !== undefined) {
    shared.rgbPermuteInPlace(target, base, per, map);
    return;
  }
  rgb8PermuteForward(target.subarray(base), target, base, 0, per, map);
}

/** Stage an 8-bit label map (NHWC, not annotate=auto) as sample `index`; false when not staged. */
export function stageLabelMap(label: Image, layout: BatchLayout, target: Float32Array, index: number): boolean {
  if (layout.labelKind !== 'map' || layout.autoLabel || layout.order !== 'NHWC' || !(label.data instanceof Uint8Array)) return false;
  const per = label.width * label.height * label.channels;
  const base = index * per;
  if (base + per > target.length) return false;
  if (!staged(label.data, target, base)) stagingView(target, index, per).set(label.data.length === per ? label.data : label.data.subarray(0, per));
  return true;
}

/** Convert a staged label map in place (set() copies an overlapping source first). */
export function finishStagedLabelMap(shape: SampleShape, target: Float32Array, index: number, shared?: SharedConverter): void {
  const per = shape.width * shape.height * shape.labelChannels;
  if (shared !== undefined) shared.bytesToFloatInPlace(target, index * per, per);
  else target.set(stagingView(target, index, per), index * per);
}

function byteOf(src: Image['data'], i: number): number {
  if (src instanceof Uint8Array) return src[i];
  if (src instanceof Uint16Array) return src[i] >> 8;
  return toByte(src[i]);
}

/**
 * Write the per-pixel label of sample `index`: the raster as floats (channels as stored, no
 * swap: labels are data), the image itself for annotate=auto (swapped and mean-subtracted like
 * the image), or per-pixel one-hot of channel 0.
 */
export function writeLabelMap(label: Image, layout: BatchLayout, target: Float32Array, index: number, shared?: SharedConverter): void {
  const { width, height, channels } = label;
  const pixels = width * height;
  const src = label.data;
  if (layout.labelKind === 'pixel-onehot') {
    const n = layout.onehot;
    const base = index * pixels * n;
    if (base + pixels * n > target.length) throw invalidParameterError('target', `a label tensor of at least ${base + pixels * n} elements`, target.length);
    target.fill(0, base, base + pixels * n);
    for (let p = 0, i = 0; p < pixels; p++, i += channels) {
      const v = src[i];
      if (!(v >= 0 && v < n) || !Number.isInteger(v)) continue;
      target[layout.order === 'NHWC' ? base + p * n + v : base + v * pixels + p] = 1;
    }
    return;
  }
  if (layout.autoLabel) {
    const asFloat: BatchLayout = layout.dtype === 'float32' ? layout : { ...layout, dtype: 'float32' };
    writeImage(label, asFloat, target, index, shared);
    return;
  }
  const per = pixels * channels;
  const base = index * per;
  if (base + per > target.length) throw invalidParameterError('target', `a label tensor of at least ${base + per} elements`, target.length);
  if (layout.order === 'NHWC') {
    if (shared !== undefined && src instanceof Uint8Array) shared.bytesToFloat(src, target, base, per);
    else target.set(src.length === per ? src : src.subarray(0, per), base); // native element conversion
    return;
  }
  for (let k = 0; k < channels; k++) {
    const plane = base + k * pixels;
    for (let p = 0, i = k; p < pixels; p++, i += channels) target[plane + p] = src[i];
  }
}

/** Error for a per-image label that one-hot cannot encode (v1 required integral labels). */
/**
 * The label of each pixel of sample `index` in a batch of per-pixel labels (for display): channel 0
 * of a label map, or the class (argmax) of a per-pixel one-hot.
 */
export function readLabelMap(batch: { labels: Float32Array; labelShape: readonly number[] }, layout: BatchLayout, index: number, pixelCount: number): Float32Array {
  const nchw = layout.order === 'NCHW';
  const channels = nchw ? batch.labelShape[1] : batch.labelShape[3];
  const at = (p: number, k: number) => batch.labels[nchw ? index * pixelCount * channels + k * pixelCount + p : (index * pixelCount + p) * channels + k];
  const values = new Float32Array(pixelCount);
  for (let p = 0; p < pixelCount; p++) {
    let v = at(p, 0);
    if (layout.labelKind === 'pixel-onehot') {
      v = 0;
      for (let k = 1; k < channels; k++) if (at(p, k) > at(p, v)) v = k;
    }
    values[p] = v;
  }
  return values;
}

export class LabelError extends PicpacError {
  readonly recordIndex: number;
  constructor(message: string, recordIndex: number) {
    super('FORMAT', message);
    this.recordIndex = recordIndex;
  }
}

/** Write the per-image label of sample `index`: the value, or a one-hot row. */
export function writeImageLabel(value: number, layout: BatchLayout, target: Float32Array, index: number, recordIndex: number): void {
  if (layout.labelKind === 'scalar') {
    target[index] = value;
    return;
  }
  const n = layout.onehot;
  if (!Number.isInteger(value) || value < 0 || value >= n) {
    throw new LabelError(`record ${recordIndex}: label ${value} cannot be one-hot encoded with onehot ${n} (expected an integer in 0..${n - 1})`, recordIndex);
  }
  target.fill(0, index * n, (index + 1) * n);
  target[index * n + value] = 1;
}

/** Copy sample `from` of one batch tensor to sample `to` of another (same per-sample size). */
export function copySample<T extends Float32Array | Uint8Array>(source: T, from: number, target: T, to: number, elementsPerSample: number): void {
  target.set(source.subarray(from * elementsPerSample, (from + 1) * elementsPerSample) as never, to * elementsPerSample);
}
