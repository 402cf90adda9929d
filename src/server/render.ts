// Render one record the way the training stream sees it, as a JPEG or PNG: decode field 0 (and
// the label field or the annotation JSON, per `annotate`), prepare (resize, annotation raster —
// with the viewer's anno_copy default the shapes are drawn on a copy of the image), perturb with
// a vector drawn from (seed, record), augment, then encode with sharp. The image and its
// annotation stay separate in the database; the overlay exists only in the reply.
//
// Sizes are checked before any large allocation: the stored image's header size against
// maxDecodePixels, the post-resize size and the augmented output size against maxRenderPixels.
import { HttpError } from '../engine/sources/http-kit.ts';
import { RNG_TAG, Rng } from '../engine/rng.ts';
import type { StoredField, StoredRecord } from '../engine/store.ts';
import { PicpacError } from '../errors.ts';
import { sniffImage } from '../format/image-sniff.ts';
import { ImageCodec } from '../format/layout.ts';
import type { StreamConfig } from '../augment/config-schema.ts';
import { convertChannels, toUint8 } from '../augment/pixels/image.ts';
import type { Image } from '../augment/pixels/image.ts';
import { resizeTarget } from '../augment/pixels/resize.ts';
import { decodeField } from '../augment/stream/sample-pipeline.ts';
import { NO_PERTURBATION, augmentSample, planSample, prepareSample, samplePerturbation } from '../augment/stream/sample-transform.ts';
import type { DecodedSample, Perturbation, PixelParams } from '../augment/stream/sample-transform.ts';
import { VIEWER_LIMITS } from './params.ts';
import { loadSharp } from '../augment/pixels/sharp-module.ts';

export type OutputFormat = 'jpeg' | 'png';

export interface RenderOptions {
  /** 'jpeg' (default) or 'png'. */
  format?: OutputFormat;
  /** JPEG quality 1..100 (default 90). */
  quality?: number;
  /** Min-max stretch the output to 0..255 (the explorer's `norm`). */
  norm?: boolean;
  /** Multiply the label image by this (the explorer's `anno_factor`); default 1. */
  annoFactor?: number;
  /** 'label' (default when annotate is set: the overlay or mask) or 'image'. */
  output?: 'image' | 'label';
}

export interface RenderedImage {
  bytes: Uint8Array;
  contentType: string;
  width: number;
  height: number;
  /** What was drawn for this record (NO_PERTURBATION when perturb is off). */
  perturbation: Perturbation;
  output: 'image' | 'label';
}

/** The perturbation vector the viewer uses for a record: seeded by (seed, record), so a URL always shows the same picture. */
export function viewerPerturbation(config: StreamConfig, recordIndex: number): Perturbation {
  if (!config.perturb) return NO_PERTURBATION;
  return samplePerturbation(new Rng(config.seed, RNG_TAG.perturb, 0, recordIndex), config as unknown as PixelParams);
}

/** The first image (or tensor) field and, per `annotate`, the label field or the annotation text, decoded. */
export async function decodeRecord(record: StoredRecord, config: StreamConfig): Promise<DecodedSample> {
  const recordIndex = record.recordIndex;
  const imageField = record.fields.find((f) => f.kind === 'image' || f.kind === 'tensor');
  if (imageField === undefined) {
    throw new PicpacError('FORMAT', `record ${recordIndex} has no image or tensor field (fields: ${record.fields.map((f) => f.type).join(', ') || 'none'})`);
  }
  checkDecodeSize(imageField, recordIndex);
  const image = await decodeField(imageField, recordIndex, config.decode_mode as -1 | 0 | 1, config.channels);
  const decoded: DecodedSample = { image, recordIndex };
  if (config.annotate === 'image') {
    const labelField = record.fields.find((f) => f.kind === 'label') ?? (record.fields[1]?.kind === 'image' ? record.fields[1] : undefined);
    if (labelField !== undefined && labelField.bytes.length > 0) {
      checkDecodeSize(labelField, recordIndex);
      decoded.labelImage = await decodeField(labelField, recordIndex, -1, 0);
    }
  } else if (config.annotate === 'json' && record.annotation !== undefined) {
    decoded.annotation = record.annotation;
  }
  return decoded;
}

function checkDecodeSize(field: StoredField, recordIndex: number): void {
  if (field.kind === 'tensor' || field.codec === ImageCodec.v1raw) {
    if (field.bytes.length > VIEWER_LIMITS.maxDecodePixels * 4) throw tooLarge(`field of ${field.bytes.length} bytes`, recordIndex);
    return;
  }
  const { width, height } = sniffImage(field.bytes);
  if (width * height > VIEWER_LIMITS.maxDecodePixels) throw tooLarge(`image of ${width}x${height} pixels`, recordIndex);
}

function tooLarge(what: string, recordIndex: number): HttpError {
  return new HttpError(422, `record ${recordIndex}: ${what} exceeds the viewer's limit of ${VIEWER_LIMITS.maxDecodePixels} pixels`);
}

/** Run the v1 pipeline on a record; returns the augmented image and label rasters. */
export async function transformRecord(record: StoredRecord, config: StreamConfig): Promise<{ image: Image; label?: Image; perturbation: Perturbation }> {
  const params = config as unknown as PixelParams;
  const decoded = await decodeRecord(record, config);
  const target = resizeTarget(decoded.image.width, decoded.image.height, {
    resizeWidth: config.resize_width, resizeHeight: config.resize_height, minSize: config.min_size, maxSize: config.max_size,
  });
  checkRenderSize(target.width, target.height, 'resized image');
  const prepared = prepareSample(decoded, params);
  const perturbation = viewerPerturbation(config, record.recordIndex);
  const plan = planSample(prepared.image.width, prepared.image.height, params, perturbation);
  checkRenderSize(plan.width, plan.height, 'augmented image');
  const out = augmentSample(prepared, params, perturbation);
  return { ...out, perturbation };
}

function checkRenderSize(width: number, height: number, what: string): void {
  if (width * height > VIEWER_LIMITS.maxRenderPixels) {
    throw new HttpError(400, `the ${what} would be ${width}x${height} pixels; the viewer renders at most ${VIEWER_LIMITS.maxRenderPixels} pixels (lower max_size, resize_* or pert_max_scale)`);
  }
}

/** Render a record with stream parameters to JPEG/PNG. */
export async function renderRecord(record: StoredRecord, config: StreamConfig, options: RenderOptions = {}): Promise<RenderedImage> {
  const { image, label, perturbation } = await transformRecord(record, config);
  const output = options.output ?? (config.annotate !== '' && label !== undefined ? 'label' : 'image');
  let picture = output === 'label' ? label : image;
  if (picture === undefined) throw new HttpError(400, 'output=label needs annotate (json, image or auto)');
  if (output === 'label' && (options.annoFactor ?? 1) !== 1) picture = scaleValues(picture, options.annoFactor!);
  const encoded = await encodeImage(picture, { format: options.format, quality: options.quality, norm: options.norm });
  return { ...encoded, perturbation, output };
}

function scaleValues(image: Image, factor: number): Image {
  const out = new Float32Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = image.data[i] * factor;
  return { ...image, data: out };
}

/** Any Image (8/16-bit, float, 1-4 channels) → JPEG/PNG bytes; `norm` stretches min..max to 0..255. */
export async function encodeImage(image: Image, options: { format?: OutputFormat; quality?: number; norm?: boolean } = {}): Promise<{ bytes: Uint8Array; contentType: string; width: number; height: number }> {
  const format = options.format ?? 'jpeg';
  let picture = image;
  if (picture.channels === 2) picture = firstChannel(picture);
  if (options.norm) picture = stretch(picture);
  picture = toUint8(picture);
  if (format === 'jpeg' && picture.channels === 4) picture = convertChannels(picture, 3);
  const { width, height, channels } = picture;
  if (width === 0 || height === 0) throw new HttpError(422, `nothing to encode: the image is ${width}x${height}`);
  const sharp = await loadSharp();
  const pixels = sharp(picture.data, { raw: { width, height, channels: channels as 1 | 3 | 4 } });
  const bytes = format === 'png' ? await pixels.png({ compressionLevel: 3 }).toBuffer() : await pixels.jpeg({ quality: options.quality ?? 90 }).toBuffer();
  return { bytes, contentType: format === 'png' ? 'image/png' : 'image/jpeg', width, height };
}

function firstChannel(image: Image): Image {
  const pixelCount = image.width * image.height;
  const out = new (image.data.constructor as Float32ArrayConstructor)(pixelCount);
  for (let p = 0; p < pixelCount; p++) out[p] = image.data[p * image.channels];
  return { width: image.width, height: image.height, channels: 1, data: out };
}

function stretch(image: Image): Image {
  let min = Infinity;
  let max = -Infinity;
  for (const v of image.data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const out = new Uint8Array(image.data.length);
  const range = max - min;
  if (range > 0) for (let i = 0; i < out.length; i++) out[i] = Math.round(((image.data[i] - min) * 255) / range);
  return { width: image.width, height: image.height, channels: image.channels, data: out };
}
