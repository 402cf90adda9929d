// Where samples land and how batches are handed out (the main thread's half of batching;
// batch.ts writes the pixels). Once the first samples have shown the output shape, each
// dispatched sample gets a place — (shared batch tensor, index) — and the worker writes there;
// a full batch whose samples all landed in place, in order, is returned without a copy.
//
// Places: sample number p = seq − (failures seen so far) goes to buffer ⌊p / B⌋, index p mod B.
// Places are only ever given in increasing order, so no place is used twice; after a skipped
// record the numbering lags by one until the next new place, and the batches in between are
// gathered by copying (correct either way: what a batch holds never depends on placement).
// Batch > 1 buffers have a fixed per-sample stride (the shape seen on two samples in a row);
// batch 1 buffers take any sample that fits (sized for the largest sample seen, + 25 %).
// With reuseBuffers, a returned batch's buffer is recycled when the next batch is requested.
// Without, a batch returned without a copy is the caller's; giveBack() takes its buffer back for
// reuse when the caller says it is done with it (ImageStream.release). Fresh memory for every
// batch costs page faults and V8 collections (docs/performance.md, "Given-away batches").
import {
  allocImages, allocLabels, copySample, imageBatchShape, imageElementCount, labelBatchShape, labelElementCount,
  sameShape, writeImageLabel,
} from './batch.ts';
import type { BatchLayout, SampleShape } from './batch.ts';
import { PicpacError } from '../../errors.ts';
import type { BatchArena } from './batch-arena.ts';
import type { SampleOutcome, SampleTask } from './sample-pipeline.ts';
import type { StreamPosition } from '../sampling/sampler.ts';

/** Samples of one batch came out in different shapes: the parameters, not the data, are at fault. */
export class BatchShapeError extends PicpacError {
  constructor(message: string) {
    super('FORMAT', message);
  }
}

export interface Batch {
  /** Pixels: Float32 (mean subtracted) or Uint8 (dtype 'uint8'), in `imageShape`. */
  images: Float32Array | Uint8Array;
  /** [B, H, W, C] (NHWC) or [B, C, H, W] (NCHW); multi_images n > 1 (batch 1): [n, H, W, C] / [n, C, H, W]. */
  imageShape: number[];
  /** Labels: [B], [B, N] one-hot, or per-pixel maps [B, H, W, C] / [B, C, H, W]. */
  labels: Float32Array;
  labelShape: number[];
  /** Real samples; with pad, samples count..B-1 repeat real samples (never garbage). */
  count: number;
  /** B - count: how many trailing samples are padding. */
  padded: number;
  /** Record index of each sample (padding repeats real ones). */
  recordIndices: Int32Array;
  /** 0 = main store, 1 = mixin, per sample. */
  sourceIndices: Uint8Array;
  /** Record id of each sample. */
  ids: Float64Array;
  /** Stream position after this batch: store it in a checkpoint, pass it back as resume_epoch/resume_offset. */
  position: StreamPosition;
}

/** A dispatched task as the stream keeps it: its position in the rank's stream and its place. */
export type GatherTask = SampleTask & { offset: number; bufferKey?: number };

/** A successful sample waiting to be batched. */
export interface GatherEntry {
  task: GatherTask;
  outcome: SampleOutcome;
  label: number;
  id: number;
}

interface BatchBuffer {
  images: Float32Array | Uint8Array;
  labels: Float32Array | undefined;
  /** Blocks of the shared arena holding images and labels (undefined: plain SharedArrayBuffers). */
  arena?: { images: number; imageBytes: number; labels: number | undefined; labelBytes: number };
  /** Batch > 1: the per-sample stride every sample must match. Batch 1: undefined (any sample that fits). */
  shape: SampleShape | undefined;
  consumed: number;
}

export class BatchGather {
  /** Batches that needed a gathering copy (first batch, varying shapes, around skipped records). */
  copiedBatches = 0;
  /** Batch buffers allocated in the shared arena (the rest are plain SharedArrayBuffers). */
  arenaBuffers = 0;
  private readonly perPixel: boolean;
  private readonly buffers = new Map<number, BatchBuffer>();
  private freeBuffers: BatchBuffer[] = [];
  private lent: BatchBuffer | undefined;
  /** Batches returned without a copy and not reused, by their images array: giveBack() recycles them. */
  private givenAway = new WeakMap<object, BatchBuffer>();
  private hint: SampleShape | undefined;
  private hintStreak = 0;
  private maxImageElements = 0;
  private maxLabelElements = 0;
  private maxPlaced = -1;

  constructor(
    private readonly batchSize: number,
    private readonly layout: BatchLayout,
    private readonly pad: boolean,
    private readonly reuseBuffers: boolean,
    /** Batch tensors come from this shared memory (reused buffers only: they are never given away). */
    private readonly arena: BatchArena | undefined,
    /**
     * Other buffers are SharedArrayBuffers, which worker threads write; false (inline streams):
     * private ones, which this thread fills several times faster (pixels/convert-simd.ts).
     */
    private readonly sharedBuffers: boolean,
  ) {
    this.perPixel = layout.labelKind === 'map' || layout.labelKind === 'pixel-onehot';
  }

  /** Give a task its place when the output size is known and the place is new. */
  place(task: GatherTask, failuresSeen: number): void {
    const B = this.batchSize;
    const placed = task.seq - failuresSeen;
    const known = B === 1 ? this.maxImageElements > 0 : this.hint !== undefined && this.hintStreak >= 2;
    if (!known || placed <= this.maxPlaced) return;
    this.maxPlaced = placed;
    const key = Math.floor(placed / B);
    let buffer = this.buffers.get(key);
    if (buffer === undefined) {
      buffer = this.takeBuffer();
      this.buffers.set(key, buffer);
    }
    task.dest = { images: buffer.images, labels: buffer.labels, index: placed % B, shape: buffer.shape };
    if (buffer.arena !== undefined) task.dest.arena = true;
    task.bufferKey = key;
  }

  /** Learn the output size from a successful sample. */
  observe(shape: SampleShape): void {
    if (this.hint !== undefined && sameShape(this.hint, shape)) {
      this.hintStreak++;
    } else {
      this.hint = shape;
      this.hintStreak = 1;
    }
    this.maxImageElements = Math.max(this.maxImageElements, imageElementCount(shape));
    if (this.perPixel) this.maxLabelElements = Math.max(this.maxLabelElements, labelElementCount(shape, this.layout));
  }

  /** The consumer asked for the next batch: the previous one's buffer may be reused. */
  recycleLent(): void {
    if (this.lent !== undefined && this.reuseBuffers) this.freeBuffers.push(this.lent);
    this.lent = undefined;
  }

  /**
   * The caller is done with the batch whose images are `images`: its buffer may take new samples.
   * False when it is not a batch returned without a copy, or was given back already.
   */
  giveBack(images: object): boolean {
    const buffer = this.givenAway.get(images);
    if (buffer === undefined) return false;
    this.givenAway.delete(images);
    this.freeBuffers.push(buffer);
    return true;
  }

  /** Count a consumed place in its buffer; a fully consumed buffer leaves the map. */
  release(task: GatherTask): BatchBuffer | undefined {
    if (task.bufferKey === undefined) return undefined;
    const buffer = this.buffers.get(task.bufferKey);
    if (buffer === undefined) return undefined;
    if (++buffer.consumed === this.batchSize) this.buffers.delete(task.bufferKey);
    return buffer;
  }

  clear(): void {
    this.buffers.clear();
    this.freeBuffers = [];
    this.lent = undefined;
    this.givenAway = new WeakMap();
  }

  /** A recycled buffer that fits, or a new shared one. */
  private takeBuffer(): BatchBuffer {
    const B = this.batchSize;
    let imageElements: number;
    let labelElements: number;
    let shape: SampleShape | undefined;
    if (B === 1) {
      imageElements = Math.ceil(this.maxImageElements * 1.25);
      labelElements = Math.ceil(this.maxLabelElements * 1.25);
    } else {
      shape = this.hint!;
      imageElements = B * imageElementCount(shape);
      labelElements = B * labelElementCount(shape, this.layout);
    }
    while (this.freeBuffers.length > 0) {
      const recycled = this.freeBuffers.pop()!;
      const fits = B === 1
        ? recycled.images.length >= this.maxImageElements && (!this.perPixel || recycled.labels!.length >= this.maxLabelElements)
        : recycled.shape !== undefined && sameShape(recycled.shape, shape!);
      if (fits) {
        recycled.consumed = 0;
        return recycled;
      }
      this.releaseArena(recycled); // outgrown
    }
    return this.arenaBuffer(imageElements, labelElements, shape) ?? {
      images: allocImages(imageElements, this.layout, this.sharedBuffers),
      labels: this.perPixel ? allocLabels(labelElements, this.sharedBuffers) : undefined,
      shape,
      consumed: 0,
    };
  }

  /** A buffer in the shared arena (reused buffers only), or undefined (none, or full). */
  private arenaBuffer(imageElements: number, labelElements: number, shape: SampleShape | undefined): BatchBuffer | undefined {
    const arena = this.arena;
    if (arena === undefined || !this.reuseBuffers) return undefined;
    const uint8 = this.layout.dtype === 'uint8';
    const imageBytes = (uint8 ? 1 : 4) * imageElements;
    const labelBytes = this.perPixel ? 4 * labelElements : 0;
    const images = arena.alloc(imageBytes);
    if (images === undefined) return undefined;
    const labels = this.perPixel ? arena.alloc(labelBytes) : undefined;
    if (this.perPixel && labels === undefined) {
      arena.release(images, imageBytes);
      return undefined;
    }
    this.arenaBuffers++;
    return {
      images: uint8 ? arena.uint8(images, imageElements) : arena.float32(images, imageElements),
      labels: labels === undefined ? undefined : arena.float32(labels, labelElements),
      arena: { images, imageBytes, labels, labelBytes },
      shape,
      consumed: 0,
    };
  }

  private releaseArena(buffer: BatchBuffer): void {
    const a = buffer.arena;
    if (a === undefined || this.arena === undefined) return;
    this.arena.release(a.images, a.imageBytes);
    if (a.labels !== undefined) this.arena.release(a.labels, a.labelBytes);
    buffer.arena = undefined;
  }

  /** Build the batch from 1..B successful samples (padded to B with `pad`). */
  assemble(entries: GatherEntry[], position: StreamPosition): Batch {
    const B = this.batchSize;
    const layout = this.layout;
    const perPixel = this.perPixel;
    const count = entries.length;
    const size = this.pad ? B : count;
    const shape = entries[0].outcome.shape!;
    for (const e of entries) {
      if (!sameShape(shape, e.outcome.shape!)) {
        throw new BatchShapeError(`samples of one batch must have the same shape: record ${entries[0].task.recordIndex} is ${fmt(shape)}, record ${e.task.recordIndex} is ${fmt(e.outcome.shape!)} (set crop_width/crop_height or resize_width/resize_height, or batch 1)`);
      }
    }
    const imagesPer = imageElementCount(shape);
    const labelsPer = labelElementCount(shape, layout);
    const first = entries[0].task.dest;
    const whole = size === B && count === B && first !== undefined &&
      entries.every((e, i) => e.outcome.inPlace && e.task.dest!.images === first.images && e.task.dest!.index === i);
    let images: Float32Array | Uint8Array;
    let labels: Float32Array;
    if (whole) {
      images = this.batchView(first.images, size * imagesPer);
      labels = perPixel ? this.batchView(first.labels!, size * labelsPer) : new Float32Array(size * labelsPer);
      const buffer = this.releaseAll(entries);
      if (this.reuseBuffers) this.lent = buffer;
      else if (buffer !== undefined) this.givenAway.set(images, buffer);
    } else if (size === 1 && !entries[0].outcome.inPlace) {
      // One detached sample: its transferred arrays are the batch.
      images = entries[0].outcome.images!;
      labels = perPixel ? entries[0].outcome.labels! : new Float32Array(labelsPer);
      this.releaseAll(entries);
    } else {
      this.copiedBatches++;
      images = allocImages(size * imagesPer, layout, false);
      labels = new Float32Array(size * labelsPer);
      entries.forEach((e, i) => {
        const o = e.outcome;
        const srcIndex = o.inPlace ? e.task.dest!.index : 0;
        copySample(o.inPlace ? e.task.dest!.images : o.images!, srcIndex, images, i, imagesPer);
        if (perPixel) copySample(o.inPlace ? e.task.dest!.labels! : o.labels!, srcIndex, labels, i, labelsPer);
        this.release(e.task);
      });
      for (let i = count; i < size; i++) {
        copySample(images, i % count, images, i, imagesPer);
        if (perPixel) copySample(labels, i % count, labels, i, labelsPer);
      }
    }
    const recordIndices = new Int32Array(size);
    const sourceIndices = new Uint8Array(size);
    const ids = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      const e = entries[i % count];
      recordIndices[i] = e.task.recordIndex;
      sourceIndices[i] = e.task.sourceIndex;
      ids[i] = e.id;
      if (!perPixel) writeImageLabel(e.label, layout, labels, i, e.task.recordIndex);
    }
    return {
      images, imageShape: imageBatchShape(size, shape, layout), labels, labelShape: labelBatchShape(size, shape, layout),
      count, padded: size - count, recordIndices, sourceIndices, ids, position,
    };
  }

  /**
   * Zero copy: the first `length` elements of a batch buffer (batch 1 buffers may be larger than
   * the sample). A batch given away always gets a view of its own, so no later batch in the same
   * buffer has its `images` object, which a second giveBack() of this one would free.
   */
  private batchView<T extends Float32Array | Uint8Array>(array: T, length: number): T {
    return this.reuseBuffers && array.length === length ? array : array.subarray(0, length) as T;
  }

  /** Release every entry's place; returns the (last) buffer they were in. */
  private releaseAll(entries: GatherEntry[]): BatchBuffer | undefined {
    let buffer: BatchBuffer | undefined;
    for (const e of entries) buffer = this.release(e.task) ?? buffer;
    return buffer;
  }
}

function fmt(shape: SampleShape): string {
  return `${shape.width}x${shape.height}x${shape.channels}`;
}
