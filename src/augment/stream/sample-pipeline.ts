// One sample, from record bytes to its place in the batch: read → decode → prepare (resize,
// annotation raster; cached) → perturb → augment → write. The same code runs inside each
// worker (stream-worker.ts) and inline on the calling thread (threads = 0), so both give
// identical bytes. Every random draw is seeded by the sample's stream coordinates
// (seed, RNG_TAG.perturb, epoch, globalOffset), never by which thread runs it.
import { RNG_TAG, Rng } from '../../engine/rng.ts';
import type { GetSyncOptions, ReadBuffer, Store, StoredField, StoredRecord } from '../../engine/store.ts';
import { ERROR_CODES, PicpacError } from '../../errors.ts';
import { ImageCodec } from '../../format/layout.ts';
import { decodeTensor } from '../../format/tensor.ts';
import type { TensorDTypeCode } from '../../format/layout.ts';
import { decodeRawMatrix } from '../../format/v1/raw-matrix.ts';
import { sampleShapeOf, sameShape, stageImage, isStagedIn, finishStagedImage, stageLabelMap, stagingView, writeImage, writeLabelMap, imageElementCount, labelElementCount, allocImages, allocLabels } from './batch.ts';
import type { BatchLayout, SampleShape } from './batch.ts';
import type { StreamConfig } from '../config-schema.ts';
import { decodeImage, decodeImageSync } from '../pixels/decode.ts';
import { decodeTargetBytes } from '../pixels/decode-target.ts';
import { allocPixels, convertChannels, holdsPixels, sampleTypeOf, swapRedBlueInPlace, toUint8 } from '../pixels/image.ts';
import type { Image } from '../pixels/image.ts';
import { SampleCache, sampleKey } from './sample-cache.ts';
import type { SharedConverter } from '../pixels/convert-simd.ts';
import { augmentSample, prepareSample, samplePerturbation, NO_PERTURBATION } from './sample-transform.ts';
import type { AugmentScratch, DecodedSample, PixelParams, PreparedSample } from './sample-transform.ts';
import { imageFromCvMatrix, imageFromTensor } from '../pixels/tensor-image.ts';

/** What the dispatcher asks for one sample. Structured-cloneable (SharedArrayBuffers are shared). */
export interface SampleTask {
  /** Dispatch sequence number (stream order). */
  seq: number;
  recordIndex: number;
  /** 0 = main store, 1 = mixin. */
  sourceIndex: number;
  epoch: number;
  globalOffset: number;
  /**
   * Where to write: batch tensors and the sample's index in them, when the sample has `shape`
   * (the batch's stride); without `shape` (batch 1), at index 0 whenever the sample fits.
   */
  dest?: {
    images: Float32Array | Uint8Array; labels: Float32Array | undefined; index: number; shape: SampleShape | undefined;
    /** The tensors are views of the stream's shared memory (batch-arena.ts): wasm writes them. */
    arena?: boolean;
  };
  /**
   * The record, already read by the dispatching thread into shared memory (worker-pool.ts
   * "caller reads"); absent: the pipeline reads it.
   */
  record?: StoredRecord;
}

export interface SampleErrorInfo {
  name: string;
  code: string;
  message: string;
  recordIndex: number;
  sourceIndex: number;
}

/** The answer: written in place, or detached arrays (transferable), or an error. */
export interface SampleOutcome {
  seq: number;
  ok: boolean;
  inPlace: boolean;
  /**
   * In place, but left for the caller to finish — float32 conversion, or uint8 channel order
   * (batch.ts "staged conversion"): STAGED_IMAGE and/or STAGED_LABEL bits; absent or 0 when the
   * sample's place is final.
   */
  staged?: number;
  shape?: SampleShape;
  images?: Float32Array | Uint8Array;
  labels?: Float32Array;
  error?: SampleErrorInfo;
}

export const STAGED_IMAGE = 1;
export const STAGED_LABEL = 2;

/** Milliseconds spent per stage (and sample count), for the bench's breakdown. */
export interface StageTimes {
  samples: number;
  read: number;
  decode: number;
  prepare: number;
  augment: number;
  batch: number;
  cacheHits: number;
  /** Samples whose conversion the calling thread finished (staged by the workers). */
  stagedSamples: number;
  /** Records the calling thread read for the workers (worker-pool.ts "caller reads"). */
  callerReads: number;
}

export function emptyStageTimes(): StageTimes {
  return { samples: 0, read: 0, decode: 0, prepare: 0, augment: 0, batch: 0, cacheHits: 0, stagedSamples: 0, callerReads: 0 };
}

export function addStageTimes(into: StageTimes, from: StageTimes): StageTimes {
  for (const key of Object.keys(into) as (keyof StageTimes)[]) into[key] += from[key];
  return into;
}

/** A sample that failed, naming the record and the file (STYLE §19). */
export class SampleError extends PicpacError {
  readonly recordIndex: number;
  readonly sourceIndex: number;
  /** Class name of the error the sample raised (it may have crossed a worker boundary). */
  readonly causeName: string;
  constructor(info: SampleErrorInfo, file: string, options?: { cause?: unknown }) {
    const code = ERROR_CODES.find((c) => c === info.code) ?? 'FORMAT';
    const text = info.message.startsWith(`${file}:`) ? info.message.slice(file.length + 1).trim() : info.message;
    super(code, `${file}: record ${info.recordIndex}${info.sourceIndex === 1 ? ' (mixin)' : ''}: ${text}`, options);
    this.file = file;
    this.recordIndex = info.recordIndex;
    this.sourceIndex = info.sourceIndex;
    this.causeName = info.name;
  }
}

export function errorInfo(error: unknown, recordIndex: number, sourceIndex: number): SampleErrorInfo {
  const e = error instanceof Error ? error : new Error(String(error));
  return { name: e.name, code: String((e as { code?: unknown }).code ?? 'FORMAT'), message: e.message, recordIndex, sourceIndex };
}

const now = (): number => performance.now();

/** A pipeline buffer lent to one sample (by seq) at a time. */
class Loan {
  private holder = -1;
  /** Lend it to sample `seq`; false when another sample holds it. */
  take(seq: number): boolean {
    if (this.holder !== -1) return false;
    this.holder = seq;
    return true;
  }
  /** Sample `seq` is done: the buffer is free again (if it held it). */
  end(seq: number): void {
    if (this.holder === seq) this.holder = -1;
  }
}

export class SamplePipeline {
  readonly times = emptyStageTimes();
  private readonly params: PixelParams;
  private readonly cache: SampleCache | undefined;
  /**
   * Decoded pixels of field 0 land here instead of a fresh buffer per image (less allocation
   * and GC), and record bytes in `recordBuffer` (Store.getSync): safe because without a cache
   * nothing keeps the decoded image or the record after its sample is written, and each is lent
   * to one sample at a time (two interleaved inline samples never share one).
   */
  private scratch: Uint8Array | undefined;
  private readonly scratchLoan = new Loan();
  private readonly recordBuffer: ReadBuffer = { bytes: new Uint8Array(0) };
  private readonly recordLoan = new Loan();
  /**
   * The warp's outputs (image 0 and its label) land here: augment → write runs without an await,
   * so no two samples ever hold it at once, and write() copies them into the batch.
   */
  private readonly augmentScratch: AugmentScratch = {};
  /** The JSON label is drawn here without a cache (prepare → write runs without an await). */
  private canvas: Uint8Array | undefined;
  /** Synchronous reads skip the annotation unless the stream draws it (annotate=json). */
  private readonly readOptions: GetSyncOptions;

  /**
   * @param stores main store and optional mixin store (index = sourceIndex)
   * @param cacheBytes bytes this pipeline's cache may hold (0: no cache)
   * @param [stageOutput=false] leave the conversion of in-place samples to the caller (outcome.staged)
   * @param [shared] this thread's converter for batch tensors in the stream's shared memory (dest.arena)
   */
  constructor(
    private readonly stores: readonly (Store | undefined)[],
    private readonly config: StreamConfig,
    private readonly layout: BatchLayout,
    cacheBytes: number,
    private readonly stageOutput = false,
    private readonly shared?: SharedConverter,
  ) {
    this.params = config as unknown as PixelParams;
    this.cache = config.cache && cacheBytes > 0 ? new SampleCache(cacheBytes) : undefined;
    this.readOptions = { annotation: usesAnnotation(config) };
  }

  cacheStats() {
    return this.cache?.stats();
  }

  /**
   * Start reading a task's record ahead of run(). Undefined on a cache hit (no bytes needed) and
   * when the store reads synchronously (local .picpac: run() does one pread on its own thread,
   * cheaper than an async read's thread-pool hop for page-cached records).
   */
  read(task: SampleTask): Promise<StoredRecord> | undefined {
    if (this.cache?.has(sampleKey(task.sourceIndex, task.recordIndex))) return undefined;
    const store = this.stores[task.sourceIndex];
    if (store === undefined) return Promise.reject(new PicpacError('IO', `no store for source ${task.sourceIndex}`));
    if (store.getSync !== undefined) return undefined;
    return store.get(task.recordIndex);
  }

  /** The record now: a synchronous read when the store offers one for it, else get(). */
  private readNow(task: SampleTask): StoredRecord | Promise<StoredRecord> {
    const store = this.stores[task.sourceIndex];
    if (store === undefined) throw new PicpacError('IO', `no store for source ${task.sourceIndex}`);
    if (store.getSync === undefined) return store.get(task.recordIndex);
    const reuse = this.cache === undefined && this.recordLoan.take(task.seq);
    return store.getSync(task.recordIndex, reuse ? this.recordBuffer : undefined, this.readOptions) ?? store.get(task.recordIndex);
  }

  /** The scratch buffer for sample `seq`, or undefined (cache on, or in use by another sample). */
  private takeScratch(seq: number | undefined): Uint8Array | undefined {
    if (seq === undefined || this.cache !== undefined || !this.scratchLoan.take(seq)) return undefined;
    this.scratch ??= decodeTargetBytes(256 * 256 * 3);
    return this.scratch;
  }

  /**
   * Where this sample's decoded pixels may land directly, to be converted in place without a copy:
   * the start of its place in the image tensor (batch.ts stagingView) — when the caller converts
   * (stageOutput), or when this thread does and the place is in the stream's shared wasm memory
   * (an in-place wasm conversion; a private decode then a copy into shared memory costs ~3× more).
   */
  private stagingImage(task: SampleTask): Uint8Array | undefined {
    const dest = task.dest;
    if (dest === undefined || this.layout.order !== 'NHWC') return undefined;
    if (!this.stageOutput && !(dest.arena && this.shared)) return undefined;
    return stagingView(dest.images, dest.index, dest.shape && imageElementCount(dest.shape));
  }

  /** A JSON label that was not drawn on the canvas (it was too small): give the next sample room. */
  private growCanvas(prepared: PreparedSample): void {
    const label = prepared.label?.data;
    if (label instanceof Uint8Array && label.buffer !== this.canvas?.buffer && (this.canvas?.length ?? 0) < label.length) {
      this.canvas = new Uint8Array(label.length);
    }
  }

  /** A warp output that did not fit the scratch: give the next sample room (same type). */
  private growAugmentScratch(out: { image: Image; label?: Image }): void {
    const s = this.augmentScratch;
    const image = out.image.data;
    if (!holdsPixels(s.image, image, image.length)) s.image = allocPixels(sampleTypeOf(image), image.length);
    const label = out.label?.data;
    if (label !== undefined && out.label !== out.image && !holdsPixels(s.label, label, label.length)) s.label = allocPixels(sampleTypeOf(label), label.length);
  }

  /** Run the whole sample. `record`: the task's record, or what read(task) returned (awaited here), or undefined (read now). */
  async run(task: SampleTask, record: StoredRecord | Promise<StoredRecord> | undefined): Promise<SampleOutcome> {
    try {
      const t0 = now();
      let prepared = this.cache?.get(sampleKey(task.sourceIndex, task.recordIndex));
      if (prepared !== undefined) {
        this.times.cacheHits++;
      } else {
        const stored = await (record ?? this.readNow(task));
        const t1 = now();
        this.times.read += t1 - t0;
        // Without a cache or a warp, the decoded pixels are the output: decode into the staging place.
        const staging = this.cache === undefined && !this.config.perturb ? this.stagingImage(task) : undefined;
        const decoded = await this.decode(stored, task.seq, staging);
        const t2 = now();
        this.times.decode += t2 - t1;
        prepared = prepareSample(decoded, this.params, this.cache === undefined ? this.canvas : undefined);
        if (this.cache === undefined) this.growCanvas(prepared);
        this.times.prepare += now() - t2;
        this.cache?.put(sampleKey(task.sourceIndex, task.recordIndex), prepared);
      }
      const t3 = now();
      const perturbation = this.config.perturb
        ? samplePerturbation(new Rng(this.config.seed, RNG_TAG.perturb, task.epoch, task.globalOffset), this.params)
        : NO_PERTURBATION;
      // The warp writes into private scratch, not into the staging place: filling and copying
      // out into a SharedArrayBuffer from JS is several times slower than one set() of the result.
      const out = augmentSample(prepared, this.params, perturbation, this.augmentScratch);
      this.growAugmentScratch(out);
      const t4 = now();
      this.times.augment += t4 - t3;
      const outcome = this.write(task, out.image, out.label, out.extraImages);
      this.times.batch += now() - t4;
      this.times.samples++;
      return outcome;
    } catch (error) {
      return { seq: task.seq, ok: false, inPlace: false, error: errorInfo(error, task.recordIndex, task.sourceIndex) };
    } finally {
      this.scratchLoan.end(task.seq);
      this.recordLoan.end(task.seq);
    }
  }

  /**
   * Field 0 (first image or tensor field) and, per `annotate`, the label field or the annotation text.
   * @param [seq] the sample being run: its image may then be decoded into the pipeline's scratch
   * @param [staging] decode into these bytes instead (the sample's staging place)
   */
  async decode(record: StoredRecord, seq?: number, staging?: Uint8Array): Promise<DecodedSample> {
    if (this.config.multi_images > 1) return this.decodeMulti(record);
    const recordIndex = record.recordIndex;
    const imageField = firstImageField(record.fields);
    if (imageField === undefined) {
      throw new PicpacError('FORMAT', `record ${recordIndex} has no image or tensor field (fields: ${record.fields.map((f) => f.type).join(', ') || 'none'})`);
    }
    const c = this.config;
    const into = staging ?? this.takeScratch(seq);
    const image = await decodeField(imageField, recordIndex, c.decode_mode as -1 | 0 | 1, c.channels, into);
    if (into !== undefined && into === this.scratch && image.data.buffer !== into.buffer && image.data instanceof Uint8Array && image.data.length > into.length) {
      this.scratch = decodeTargetBytes(image.data.length); // grow for the next sample
    }
    const decoded: DecodedSample = { image, recordIndex };
    if (c.annotate === 'image') {
      const labelField = record.fields.find((f) => f.kind === 'label') ?? (record.fields[1]?.kind === 'image' ? record.fields[1] : undefined);
      if (labelField !== undefined && labelField.bytes.length > 0) decoded.labelImage = await decodeField(labelField, recordIndex, -1, 0);
    } else if (c.annotate === 'json' && record.annotation !== undefined) {
      decoded.annotation = record.annotation;
    }
    return decoded;
  }

  /**
   * multi_images n > 1 (v1 MultiImageStream), by position: fields 0…n-1 are the images (image,
   * label-image or tensor fields), field n the annotation — for annotate=json the record's
   * annotation (or, from a 1.0 file, field n's JSON bytes), for annotate=image field n decoded.
   */
  private async decodeMulti(record: StoredRecord): Promise<DecodedSample> {
    const recordIndex = record.recordIndex;
    const c = this.config;
    const n = c.multi_images;
    const images: Image[] = [];
    for (let k = 0; k < n; k++) {
      const field = record.fields[k];
      if (field === undefined || field.kind === 'bytes' || field.bytes.length === 0) {
        throw new PicpacError('FORMAT', `record ${recordIndex}: multi_images ${n} needs image fields 0…${n - 1}, field ${k} is ${field === undefined ? 'missing' : field.bytes.length === 0 ? 'empty' : field.type}`);
      }
      images.push(await decodeField(field, recordIndex, c.decode_mode as -1 | 0 | 1, c.channels));
    }
    const decoded: DecodedSample = { image: images[0], extraImages: images.slice(1), recordIndex };
    const last = record.fields[n];
    if (c.annotate === 'image') {
      if (last !== undefined && last.kind !== 'bytes' && last.bytes.length > 0) decoded.labelImage = await decodeField(last, recordIndex, -1, 0);
    } else if (c.annotate === 'json') {
      if (record.annotation !== undefined) decoded.annotation = record.annotation;
      else if (last?.kind === 'bytes' && last.bytes.length > 0) decoded.annotation = last.bytes;
    }
    return decoded;
  }

  private write(task: SampleTask, image: Image, label: Image | undefined, extraImages: Image[] = []): SampleOutcome {
    const layout = this.layout;
    const imageCount = 1 + extraImages.length;
    const shape = sampleShapeOf(image, label, layout, imageCount);
    const dest = task.dest;
    const shared = dest?.arena ? this.shared : undefined;
    const perPixel = layout.labelKind === 'map' || layout.labelKind === 'pixel-onehot';
    if (perPixel && label === undefined) throw new PicpacError('FORMAT', `record ${task.recordIndex}: no label raster produced`);
    const fits = dest !== undefined && (dest.shape !== undefined
      ? sameShape(dest.shape, shape)
      : imageElementCount(shape) <= dest.images.length && (!perPixel || labelElementCount(shape, layout) <= dest.labels!.length));
    if (fits) {
      let staged = 0;
      if (this.stageOutput && imageCount === 1 && stageImage(image, layout, dest!.images, dest!.index)) staged |= STAGED_IMAGE;
      else if (shared && imageCount === 1 && isStagedIn(image, layout, dest!.images, dest!.index)) finishStagedImage(shape, layout, dest!.images, dest!.index, shared);
      else writeImages(image, extraImages, layout, dest!.images, dest!.index, shared);
      if (perPixel) {
        if (this.stageOutput && stageLabelMap(label!, layout, dest!.labels!, dest!.index)) staged |= STAGED_LABEL;
        else writeLabelMap(label!, layout, dest!.labels!, dest!.index, shared);
      }
      return staged === 0 ? { seq: task.seq, ok: true, inPlace: true, shape } : { seq: task.seq, ok: true, inPlace: true, staged, shape };
    }
    // Shape not known in advance (first samples, variable sizes): detached arrays, transferred.
    const images = allocImages(imageElementCount(shape), layout, false);
    writeImages(image, extraImages, layout, images, 0);
    let labels: Float32Array | undefined;
    if (perPixel) {
      labels = allocLabels(labelElementCount(shape, layout), false);
      writeLabelMap(label!, layout, labels, 0);
    }
    return { seq: task.seq, ok: true, inPlace: false, shape, images, labels };
  }
}

/** Whether samples read the record's annotation text: only annotate=json draws it. */
export function usesAnnotation(config: StreamConfig): boolean {
  return config.annotate === 'json';
}

/** The first image or tensor field (a loop, not find() with a closure: this runs for every sample). */
function firstImageField(fields: readonly StoredField[]): StoredField | undefined {
  for (let i = 0; i < fields.length; i++) {
    const kind = fields[i].kind;
    if (kind === 'image' || kind === 'tensor') return fields[i];
  }
  return undefined;
}

/**
 * The sample's image as sample `index` of `target`; a multi_images sample's n images are n
 * consecutive rows of the tensor. (A module function, not a closure per sample: less for every
 * worker's optimising compiler to chew on.)
 */
function writeImages(image: Image, extraImages: Image[], layout: BatchLayout, target: Float32Array | Uint8Array, index: number, into?: SharedConverter): void {
  const imageCount = 1 + extraImages.length;
  writeImage(image, layout, target, index * imageCount, into);
  for (let k = 0; k < extraImages.length; k++) writeImage(extraImages[k], layout, target, index * imageCount + k + 1, into);
}

/** Decode one field to an Image: encoded image (sync decoder, async fallback), v1 raw matrix, or tensor. */
export async function decodeField(field: StoredField, recordIndex: number, decodeMode: -1 | 0 | 1, channels: number, into?: Uint8Array): Promise<Image> {
  let image: Image;
  if (field.kind === 'tensor') {
    image = imageFromTensor(decodeTensor(field.bytes, 0, field.codec as TensorDTypeCode, recordIndex));
  } else if (field.codec === ImageCodec.v1raw) {
    const matrix = decodeRawMatrix(field.bytes, { recordIndex });
    image = imageFromCvMatrix({ cvType: matrix.cvType, rows: matrix.rows, cols: matrix.cols, data: matrix.data });
    if (image.channels >= 3) image = swapRedBlueInPlace({ ...image, data: image.data.slice() }); // OpenCV stored BGR(A)
  } else {
    const grey = isGreySource(field.bytes);
    const options = grey ? { decodeMode: -1 as const, channels: 0, recordIndex, into } : { decodeMode, channels, recordIndex, into };
    try {
      image = decodeImageSync(field.bytes, options);
    } catch (error) {
      if (!(error instanceof PicpacError && /no synchronous decoder/.test(error.message))) throw error;
      image = await decodeImage(field.bytes, { ...options, into: undefined });
    }
    if (!grey) return image;
    // Adapter: @napi-rs/image returns 8-bit grey PNG and grey JPEG as RGB; v1 kept them grey
    // (decode_mode -1 = unchanged). R = G = B there, so channel 0 is exact.
    if (image.channels === 3 && image.data instanceof Uint8Array) image = firstChannel(image);
  }
  if (decodeMode === 0) image = convertChannels(toUint8(image), 1);
  else if (decodeMode === 1) image = convertChannels(toUint8(image), 3);
  return convertChannels(image, channels);
}

/** 8-bit grey PNG (IHDR colour type 0) or single-component JPEG (SOF). */
export function isGreySource(bytes: Uint8Array): boolean {
  if (bytes.length > 25 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[12] === 0x49 && bytes[15] === 0x52) return bytes[25] === 0 && bytes[24] <= 8;
  if (bytes.length > 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    // Walk the marker segments to the first SOFn; its component count is at +9.
    let i = 2;
    while (i + 9 < bytes.length) {
      if (bytes[i] !== 0xff) return false;
      const marker = bytes[i + 1];
      if (marker === 0xff) {
        i++;
        continue;
      }
      const length = (bytes[i + 2] << 8) | bytes[i + 3];
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return bytes[i + 9] === 1;
      if (marker === 0xda || marker === 0xd9) return false;
      i += 2 + length;
    }
  }
  return false;
}

function firstChannel(image: Image): Image {
  const pixelCount = image.width * image.height;
  const out = new Uint8Array(pixelCount);
  const src = image.data;
  for (let p = 0, i = 0; p < pixelCount; p++, i += image.channels) out[p] = src[i];
  return { width: image.width, height: image.height, channels: 1, data: out };
}

export type { PreparedSample };
