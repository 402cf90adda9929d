// One batch exactly as the training stream produces it (ImageStream over the served store,
// inline, no cache), turned back into pictures: each sample's image tensor (mean added back,
// BGR/NCHW undone) and its label (the number, the one-hot vector, or the label map stretched to
// 0..255) as PNG data URLs, so the page shows image and label side by side with no state kept
// on the server. Sizes are bounded before the stream allocates anything.
import { HttpError } from '../engine/sources/http-kit.ts';
import type { Store } from '../engine/store.ts';
import { LabelError, readLabelMap } from '../augment/stream/batch.ts';
import { BatchShapeError } from '../augment/stream/batch-gather.ts';
import { SampleError } from '../augment/stream/sample-pipeline.ts';
import type { BatchLayout } from '../augment/stream/batch.ts';
import { configToQuery } from '../augment/config.ts';
import type { StreamConfig } from '../augment/config-schema.ts';
import { ImageStream } from '../augment/stream/stream.ts';
import type { Batch } from '../augment/stream/stream.ts';
import { VIEWER_LIMITS, streamConfigFromQuery } from './params.ts';
import { loadSharp } from '../augment/pixels/sharp-module.ts';

/** Pixels one batch may hold in all (samples × H × W). */
export const MAX_BATCH_PIXELS = 16 * 2 ** 20;

/** When the query sets no size at all: a uniform 256² batch (long side 256, centred crop-or-pad). */
const SIZE_DEFAULTS = Object.freeze({ max_size: '256', crop_width: '256', crop_height: '256' });
const SIZE_NAMES = ['resize_width', 'resize_height', 'min_size', 'max_size', 'crop_width', 'crop_height'];

/** The stream configuration of /api/stream: the stream's own defaults (not the viewer's), inline, uncached. */
export function streamPageConfig(query: URLSearchParams): StreamConfig {
  const sized = SIZE_NAMES.some((name) => query.has(name));
  const config = streamConfigFromQuery(query, { threads: '0', cache: '0', preload: '0', ...(sized ? {} : SIZE_DEFAULTS) }, { viewerDefaults: false });
  if (config.batch > VIEWER_LIMITS.maxBatch) {
    throw new HttpError(400, `Expected integer between 1 and ${VIEWER_LIMITS.maxBatch} (viewer limit) for batch but received ${config.batch} of type number`);
  }
  const side = sideBound(config);
  if (side === undefined) {
    throw new HttpError(400, 'the stream page needs a size bound: set max_size, resize_width and resize_height, or crop_width and crop_height');
  }
  const pixels = config.batch * side.width * side.height;
  if (pixels > MAX_BATCH_PIXELS) {
    throw new HttpError(400, `a batch of ${config.batch} samples up to ${side.width}x${side.height} pixels exceeds the viewer's limit of ${MAX_BATCH_PIXELS} pixels per batch (lower batch or the size)`);
  }
  return config;
}

/** Largest output size the parameters allow, or undefined when unbounded. */
function sideBound(c: StreamConfig): { width: number; height: number } | undefined {
  if (c.crop_width > 0) return { width: c.crop_width, height: c.crop_height };
  const scale = c.perturb ? c.pert_max_scale : 1;
  let side: number | undefined;
  if (c.resize_width > 0) return { width: Math.ceil(c.resize_width * scale), height: Math.ceil(c.resize_height * scale) };
  if (c.max_size > 0 && c.min_size <= 0) side = c.max_size;
  if (side === undefined) return undefined;
  return { width: Math.ceil(side * scale), height: Math.ceil(side * scale) };
}

export interface StreamSample {
  recordIndex: number;
  id: number;
  label: number;
  /** PNG data URL of the image tensor. */
  image: string;
  /** PNG data URL of a per-pixel label (map / one-hot argmax), stretched to 0..255. */
  labelImage?: string;
  /** Per-image label as in the tensor: [value] or the one-hot vector. */
  labelValues?: number[];
}

/** Run the stream for one batch (after `resume_epoch`/`resume_offset`, if given). */
export async function streamBatch(store: Store, query: URLSearchParams, options: { onError?: 'throw' | 'skip' } = {}): Promise<Record<string, unknown>> {
  const config = streamPageConfig(query);
  let stream: ImageStream;
  try {
    stream = await ImageStream.open(store, config, { onError: options.onError ?? 'throw' });
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) throw new HttpError(400, error.message);
    throw error;
  }
  try {
    let batch;
    try {
      batch = await stream.next();
    } catch (error) {
      throw asRequestError(error);
    }
    const samples = batch === null ? [] : await describeSamples(batch, stream.layout);
    return {
      describe: stream.describe(),
      query: configToQuery(config),
      size: stream.size(),
      total: stream.total(),
      imageShape: batch?.imageShape ?? [],
      labelShape: batch?.labelShape ?? [],
      labelKind: stream.layout.labelKind,
      order: stream.layout.order,
      count: batch?.count ?? 0,
      padded: batch?.padded ?? 0,
      skipped: stream.skipped,
      position: batch?.position ?? stream.position(),
      warnings: stream.warnings,
      samples,
    };
  } finally {
    await stream.close();
  }
}

/**
 * Parameters the data cannot satisfy are the request's fault, not corruption: an argument error
 * raised inside a sample (round_div larger than an image), samples of different shapes in one
 * batch, a label that onehot cannot encode. Those become 400/422 with the stream's message;
 * anything else (a corrupt record) stays a 500.
 */
function asRequestError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const causeName = error instanceof SampleError ? error.causeName : error.name;
  // Argument errors (invalidParameterError/outOfRangeError), not any TypeError a bug could raise.
  const argumentError = (causeName === 'TypeError' || causeName === 'RangeError') && /\bExpected .* but received /.test(error.message);
  if (argumentError) return new HttpError(400, error.message);
  if (error instanceof BatchShapeError || error instanceof LabelError || causeName === 'LabelError') return new HttpError(422, error.message);
  return error;
}

async function describeSamples(batch: Batch, layout: BatchLayout): Promise<StreamSample[]> {
  const nchw = layout.order === 'NCHW';
  const [, d1, d2, d3] = batch.imageShape;
  const [height, width, channels] = nchw ? [d2, d3, d1] : [d1, d2, d3];
  const out: StreamSample[] = [];
  for (let i = 0; i < batch.count; i++) {
    const sample: StreamSample = {
      recordIndex: batch.recordIndices[i],
      id: batch.ids[i],
      label: layout.labelKind === 'scalar' ? batch.labels[i] : Number.NaN,
      image: await pngDataUrl(samplePixels(batch, layout, i, width, height, channels), width, height, Math.min(channels, 3)),
    };
    if (batch.labelShape.length === 4) {
      sample.labelImage = await pngDataUrl(labelPixels(batch, layout, i, width, height), width, height, 1);
    } else {
      const per = batch.labelShape.length === 2 ? batch.labelShape[1] : 1;
      sample.labelValues = Array.from(batch.labels.subarray(i * per, (i + 1) * per));
    }
    if (Number.isNaN(sample.label)) sample.label = sample.labelValues ? sample.labelValues.indexOf(Math.max(...sample.labelValues)) : 0;
    out.push(sample);
  }
  return out;
}

/** Sample i of the image tensor as 8-bit RGB (or grey): mean added back, channel order and layout undone. */
function samplePixels(batch: Batch, layout: BatchLayout, i: number, width: number, height: number, channels: number): Uint8Array {
  const pixels = width * height;
  const outChannels = Math.min(channels, 3);
  const rgb = new Uint8Array(pixels * outChannels);
  for (let p = 0; p < pixels; p++) {
    for (let k = 0; k < outChannels; k++) {
      const target = outChannels === 3 && !layout.rgb ? 2 - k : k;
      const index = layout.order === 'NCHW' ? i * pixels * channels + k * pixels + p : (i * pixels + p) * channels + k;
      const mean = layout.dtype === 'uint8' ? 0 : outChannels === 1 ? layout.mean[0] : layout.mean[layout.rgb ? 2 - k : k];
      const v = Math.round(batch.images[index] + mean);
      rgb[p * outChannels + target] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return rgb;
}

/** Channel 0 of a label map (or the argmax of a per-pixel one-hot), stretched so label ids are visible. */
function labelPixels(batch: Batch, layout: BatchLayout, i: number, width: number, height: number): Uint8Array {
  const pixels = width * height;
  const values = readLabelMap(batch, layout, i, pixels);
  let min = Infinity;
  let max = -Infinity;
  for (let p = 0; p < pixels; p++) {
    if (values[p] < min) min = values[p];
    if (values[p] > max) max = values[p];
  }
  const grey = new Uint8Array(pixels);
  // Small label ids (0, 1, 2 …) are stretched by an integer factor; anything else min-max.
  const ids = min >= 0 && max < 255;
  const factor = ids ? (max > 0 ? Math.floor(255 / max) : 1) : 255 / (max - min || 1);
  for (let p = 0; p < pixels; p++) {
    const v = ids ? values[p] * factor : (values[p] - min) * factor;
    grey[p] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
  }
  return grey;
}

async function pngDataUrl(pixels: Uint8Array, width: number, height: number, channels: number): Promise<string> {
  const sharp = await loadSharp();
  const png = await sharp(pixels, { raw: { width, height, channels: channels as 1 | 3 } }).png({ compressionLevel: 3 }).toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}
