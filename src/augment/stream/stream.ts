// ImageStream: the training stream over any Store — the original PicPac's ImageStream /
// BatchImageStream (REFERENCE §1.2, §1.3.1) with its parameters, made deterministic for a seed
// whatever the thread count, resumable at a batch boundary, and rank-aware.
//
// Threads: the calling thread only samples (Sampler), dispatches tasks and gathers batches;
// workers (threads ≥ 1) open the store by path, decode and augment, and write pixels straight
// into SharedArrayBuffer batch tensors (worker-pool.ts, stream-worker.ts). threads = 0 runs the
// same pipeline inline; a Store without a path (in memory) always runs inline (a warning says so).
//
// Order and determinism: samples are drawn serially from the sampler and gathered in that order.
// A sample depends only on (record, epoch, globalOffset, config), so the batches — bytes
// included — are identical for threads 0, 1, 2, … and across ranks' shared global order.
//
// Placement (batch-gather.ts): once the first samples have shown the output shape, each
// dispatched sample gets a place in a shared batch tensor and a full batch of in-place samples
// is returned without a copy; the first batch, varying shapes and the batches around a skipped
// record are gathered by copying (correct either way, only slower).
//
// multi_images n > 1 (v1 MultiImageStream, REFERENCE §1.6.1): fields 0…n-1 of a record are images
// that share ONE geometry plan and perturbation (like image and label); field n is the
// annotation (the record's annotation JSON, or a label image). Batch must be 1; a batch then
// holds one record: images [n, H, W, C] (NHWC) or [n, C, H, W] (NCHW), labels as for batch 1 —
// [1, H, W, C] / [1, C, H, W] per-pixel, [1] or [1, N] per image — and count = 1.
//
// Errors (STYLE §20): onError 'throw' (default) rejects next() with a SampleError naming the
// record and the file; 'skip' counts the record in `skipped` and takes the next sample in
// stream order instead — the same samples whatever the timing.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isUrl, openStore } from '../../engine/open-store.ts';
import { PicpacReader } from '../../engine/picpac/picpac-reader.ts';
import type { PicpacReaderSnapshot } from '../../engine/picpac/picpac-reader.ts';
import type { RecordMeta, Store } from '../../engine/store.ts';
import { ClosedError, invalidParameterError, outOfRangeError } from '../../errors.ts';
import { LabelError, batchLayout, imageElementCount } from './batch.ts';
import type { BatchLayout, SampleShape } from './batch.ts';
import { BatchGather } from './batch-gather.ts';
import { BatchArena } from './batch-arena.ts';
import type { Batch, GatherEntry, GatherTask } from './batch-gather.ts';
import type { StreamConfig } from '../config-schema.ts';
import { parseStreamConfig } from '../config.ts';
import type { StreamConfigInput } from '../config.ts';
import { SampleError } from './sample-pipeline.ts';
import type { SampleOutcome, SampleTask, StageTimes } from './sample-pipeline.ts';
import { Sampler, createSampleSlot } from '../sampling/sampler.ts';
import type { StreamPosition } from '../sampling/sampler.ts';
import { InlineRunner, PrefetchQueue, WorkerPool } from './worker-pool.ts';
import { planStreamMemory, storedImageSizes } from './memory-budget.ts';
import type { RunnerStats, SampleRunner } from './worker-pool.ts';

export type { StreamPosition } from '../sampling/sampler.ts';
export type { Batch } from './batch-gather.ts';

export interface ImageStreamOptions {
  /** A mixin store object (instead of the `mixin` path in the config). */
  mixin?: Store;
  /** true: batch tensors come from a ring of preallocated buffers, valid until the next call to next() (copy what you keep). Default false. */
  reuseBuffers?: boolean;
  /** 'throw' (default): a bad record rejects next(); 'skip': it is counted in `skipped` and the next sample takes its place. */
  onError?: 'throw' | 'skip';
  /**
   * Which thread turns the workers' 8-bit pixels into the batch — float32 minus the means, or
   * uint8 in the output channel order (NHWC; other layouts always convert in the workers):
   * 'worker', or 'caller' (this thread, as outcomes arrive — as the original's next() did), or
   * 'auto' (default): the caller when there are fewer worker threads than cores, so the free
   * core does it. Same bytes either way. Without a cache, a caller that converts also reads the
   * records of local .picpac files for the workers (`stats().times.callerReads`).
   */
  conversionThread?: 'auto' | 'worker' | 'caller';
}

export interface ImageStreamStats extends RunnerStats {
  /** Batches returned, and how many needed a gathering copy. */
  batches: number;
  copiedBatches: number;
  /** Batch buffers allocated in the stream's shared WebAssembly memory (reused buffers with workers). */
  arenaBuffers: number;
  skipped: number;
}

/**
 * Samples in flight are capped by output bytes too, per worker thread (at least 2 per thread
 * plus one, and a batch): every sample in flight holds its own place in the batch tensors, and
 * the fewer places in turn, the more of them stay in the CPU caches between the worker's write
 * and the consumer's read — but fast samples need enough in flight to hide the message round
 * trips. Measured with interleaved whole `picpac stream` runs (2 cores, AMD EPYC) against the
 * former 32 MB for any thread count: 12 MB per thread ran 256² and 500×375 full augmentation
 * with one worker 8–9 % faster, the other rows equally fast (6 MB per thread lost 10 % on 256²
 * decode only with two workers). Preload 256 without any cap held hundreds of MB and ran ~2×
 * slower.
 */
const IN_FLIGHT_BYTES_PER_THREAD = 12 << 20;

/**
 * The training stream over a store: batches of decoded, augmented images and their labels, in
 * the order of a {@link Sampler}, with the original PicPac ImageStream's parameters. The
 * batches, bytes included, depend only on the seed and parameters, not on the thread count;
 * a stream resumes at any batch boundary. Open one with `ImageStream.open`; close it (or leave
 * a `for await` loop) to stop its worker threads.
 */
export class ImageStream implements AsyncIterable<Batch> {
  readonly config: StreamConfig;
  readonly layout: BatchLayout;
  /** Fallbacks taken (stratify disabled, inline mode, …): never thrown, surfaced here. */
  readonly warnings: readonly string[];
  /** Records skipped with onError 'skip'. */
  skipped = 0;

  private readonly store: Store;
  private readonly mixin: Store | undefined;
  private readonly owned: Store[];
  private readonly sampler: Sampler;
  private readonly runner: SampleRunner;
  private readonly queue: PrefetchQueue;
  private readonly onError: 'throw' | 'skip';
  /** Samples in flight at most, from the memory budget (memory-budget.ts). */
  private readonly maxInFlight: number;
  private readonly slot = createSampleSlot();
  private readonly gather: BatchGather;
  private carry: GatherEntry[] = [];
  private seq = 0;
  private failuresSeen = 0;
  private current: StreamPosition;
  private batches = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private ended = false;
  private closed = false;

  private constructor(parts: {
    config: StreamConfig; store: Store; mixin: Store | undefined; owned: Store[]; sampler: Sampler; runner: SampleRunner;
    warnings: string[]; reuseBuffers: boolean; onError: 'throw' | 'skip'; maxInFlight: number; arena: BatchArena | undefined;
  }) {
    this.config = parts.config;
    this.layout = batchLayout(parts.config);
    this.store = parts.store;
    this.mixin = parts.mixin;
    this.owned = parts.owned;
    this.sampler = parts.sampler;
    this.runner = parts.runner;
    this.warnings = Object.freeze(parts.warnings);
    this.gather = new BatchGather(parts.config.batch, this.layout, parts.config.pad, parts.reuseBuffers, parts.arena, parts.runner.threads > 0);
    this.onError = parts.onError;
    this.maxInFlight = parts.maxInFlight;
    this.current = parts.sampler.position();
    // Small until the first sample shows the output size (adjustPrefetch then sets the window):
    // samples dispatched before that get no place in a shared batch tensor, so each allocates
    // its own fresh arrays — 64 of them at start-up cost ~50 ms of page faults and GC per worker.
    this.queue = new PrefetchQueue(parts.runner, () => this.produce(), Math.min(this.windowFloor(), this.maxInFlight));
  }

  /** Fewest samples in flight: a batch, and 2 per worker thread plus one (2 inline). */
  private windowFloor(): number {
    const threads = this.runner.threads;
    return Math.max(this.config.batch, threads === 0 ? 2 : 2 * threads + 1);
  }

  /**
   * Open a stream over a store path/URL (or an open Store, which the stream does not close).
   * @param source .picpac 2.0, PicPac 1.0, a shard manifest, or a Store
   * @param config flat stream parameters (object, URLSearchParams or CLI pairs); see config-schema.ts
   * @param [options.mixin] a mixin Store object (the config's `mixin` is a path)
   * @param [options.reuseBuffers=false] recycle batch tensors (valid until the next next())
   * @param [options.onError='throw'] 'throw' or 'skip' bad records
   * @param [options.conversionThread='auto'] who converts 8-bit pixels into the batch: 'worker', 'caller', or 'auto' (caller when threads < cores)
   */
  static async open(source: string | Store, config: StreamConfigInput = {}, options: ImageStreamOptions = {}): Promise<ImageStream> {
    const c = parseStreamConfig(config);
    if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object', options);
    const onError = options.onError ?? 'throw';
    if (onError !== 'throw' && onError !== 'skip') throw invalidParameterError('onError', 'one of "throw", "skip"', onError);
    const reuseBuffers = options.reuseBuffers ?? false;
    if (typeof reuseBuffers !== 'boolean') throw invalidParameterError('reuseBuffers', 'a boolean', reuseBuffers);
    const conversionThread = options.conversionThread ?? 'auto';
    if (conversionThread !== 'auto' && conversionThread !== 'worker' && conversionThread !== 'caller') {
      throw invalidParameterError('conversionThread', 'one of "auto", "worker", "caller"', conversionThread);
    }
    if (c.multi_images > 1 && c.batch !== 1) throw outOfRangeError('batch', `1 when multi_images is ${c.multi_images} (v1 MultiImageStream: one record per batch)`, c.batch);
    if (typeof source !== 'string' && !isStore(source)) throw invalidParameterError('source', 'a path, URL or Store', source);
    if (options.mixin !== undefined && !isStore(options.mixin)) throw invalidParameterError('mixin', 'a Store', options.mixin);
    if (options.mixin !== undefined && c.mixin !== '') throw invalidParameterError('mixin', 'either options.mixin or the mixin path, not both', c.mixin);
    const owned: Store[] = [];
    const warnings: string[] = [];
    try {
      const store = typeof source === 'string' ? await openStore(source) : source;
      if (typeof source === 'string') owned.push(store);
      let mixin = options.mixin;
      if (mixin === undefined && c.mixin !== '') {
        mixin = await openStore(c.mixin);
        owned.push(mixin);
      }
      const groupOf = (s: Store) => {
        const groups = new Float64Array(s.recordCount);
        for (let i = 0; i < groups.length; i++) groups[i] = c.group_by === 'label2' ? s.meta(i).label2 : s.meta(i).label;
        return groups;
      };
      const sampler = new Sampler({ groups: groupOf(store), mixinGroups: mixin ? groupOf(mixin) : undefined }, c);
      warnings.push(...sampler.warnings);
      // Hostile-input hook: refuse what cannot fit memory_bytes before anything is allocated; lower threads/prefetch to fit.
      const memory = planStreamMemory(c, storedImageSizes([store, mixin]));
      warnings.push(...memory.notes);
      const layout = batchLayout(c);
      let runner: SampleRunner;
      const storePath = pathOf(store);
      const mixinPath = mixin ? pathOf(mixin) : undefined;
      const useWorkers = c.threads > 0 && storePath !== undefined && (mixin === undefined || mixinPath !== undefined);
      // Reused batches live in one shared WebAssembly memory that wasm writes directly, inline too
      // (a JS copy into a SharedArrayBuffer is the slow relaxed-atomic one, pixels/convert-simd.ts):
      // slot 0 is this thread's, one more per worker.
      const arena = reuseBuffers ? BatchArena.create(useWorkers ? memory.threads + 1 : 1) : undefined;
      if (useWorkers) {
        const stageOutput = conversionThread === 'caller' || (conversionThread === 'auto' && memory.threads < availableParallelism());
        // With a core to spare this thread also reads the records (no cache: a cache hit needs no bytes).
        const callerReads = stageOutput && !(c.cache && c.cache_bytes > 0) ? [store, mixin] : undefined;
        runner = await WorkerPool.start({
          threads: memory.threads, storePath, mixinPath, storeSnapshot: snapshotOf(store), mixinSnapshot: mixin && snapshotOf(mixin),
          config: c, cacheBytes: c.cache_bytes, stageOutput, arena, callerReads,
        });
      } else {
        if (c.threads > 0) warnings.push(`threads ${c.threads} ignored: the store has no path the workers could open (${store.name}); decoding inline`);
        runner = new InlineRunner([store, mixin], c, layout, c.cache_bytes, arena);
      }
      return new ImageStream({ config: c, store, mixin, owned, sampler, runner, warnings, reuseBuffers, onError, maxInFlight: memory.maxInFlight, arena });
    } catch (error) {
      for (const s of owned) await s.close().catch(() => {});
      throw error;
    }
  }

  /** Selected records (after split and mixin). */
  size(): number {
    return this.sampler.size();
  }

  /** Records in the store(s). */
  total(): number {
    return this.sampler.total();
  }

  /** Samples this rank takes per epoch: ⌈size() / world_size⌉. */
  epochSize(): number {
    return this.sampler.epochSize();
  }

  /** Index entry of a record of the main store (sourceIndex 0) or the mixin (1). */
  meta(recordIndex: number, sourceIndex = 0): RecordMeta {
    const store = sourceIndex === 0 ? this.store : this.mixin;
    if (store === undefined) throw outOfRangeError('sourceIndex', this.mixin ? '0 or 1' : '0 (no mixin)', sourceIndex);
    return store.meta(recordIndex);
  }

  /** Position after the last returned batch (where a resumed stream starts). */
  position(): StreamPosition {
    return { ...this.current };
  }

  /** One line for logs: batch size, tensor layout and dtype, labels, augmentation, threads, cache and stores. */
  describe(): string {
    const c = this.config;
    const l = this.layout;
    const pixels = l.dtype === 'uint8' ? 'uint8' : `float32${l.mean.some((m) => m !== 0) ? ` - mean(${l.mean.join(', ')})` : ''}`;
    const labels = l.labelKind === 'scalar' ? 'label' : l.labelKind === 'onehot' ? `one-hot ${l.onehot}` : l.labelKind === 'map' ? `${c.annotate} label map` : `${c.annotate} per-pixel one-hot ${l.onehot}`;
    const onCaller = this.runner.callerReads ? ' (reads and conversion on the caller)' : this.runner.conversion === 'caller' ? ' (conversion on the caller)' : '';
    const run = this.runner.threads === 0 ? 'inline' : `${this.runner.threads} threads${onCaller}`;
    const cache = c.cache ? `cache ≤ ${Math.round(c.cache_bytes / 2 ** 20)} MiB` : 'no cache';
    const augment = c.perturb ? ', perturb' : '';
    const source = (s: Store) => `${s.format} ${s.name} (${s.recordCount} records)`;
    const stores = this.mixin ? `${source(this.store)} + mixin ${source(this.mixin)}` : source(this.store);
    return `imageStream(batch ${c.batch}${c.pad ? ' padded' : ''}, ${l.order} ${pixels} ${l.rgb ? 'RGB' : 'BGR'}, ${labels}${augment}, ${run}, ${cache}, onError ${this.onError})` +
      ` <- ${this.sampler.describe()} <- ${stores}`;
  }

  /** Stage times summed over the workers (ms), cache and gathering statistics. */
  async stats(): Promise<ImageStreamStats> {
    const runner = await this.runner.stats();
    return { ...runner, batches: this.batches, copiedBatches: this.gather.copiedBatches, arenaBuffers: this.gather.arenaBuffers, skipped: this.skipped };
  }

  /** The next batch, or null at the end of a non-looping stream. Calls are serialised. */
  next(): Promise<Batch | null> {
    const result = this.chain.then(() => this.nextBatch());
    this.chain = result.catch(() => {});
    return result;
  }

  /** `for await (const batch of stream)`; leaving the loop early closes the stream. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Batch> {
    const iterator: AsyncIterableIterator<Batch> = {
      next: async () => {
        const batch = await this.next();
        return batch === null ? { value: undefined, done: true } : { value: batch, done: false };
      },
      // Leaving a for-await loop releases the workers and file handles (STYLE §24).
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /**
   * Hand a batch back once you are done with it (its tensors copied or consumed): the stream
   * writes later samples into its memory instead of fresh memory, which page faults and V8's
   * collections make costly (several times the decode at batch 32, docs/performance.md). Only for
   * streams without `reuseBuffers`; the batch's `images` and `labels` may change at any time
   * after. Returns false, and changes nothing, for a batch that cannot be reused: built by a copy
   * (the first batches, around skipped records), already given back, from another stream, from
   * a stream with `reuseBuffers`, or after close().
   */
  release(batch: Batch): boolean {
    if (typeof batch !== 'object' || batch === null || typeof batch.images !== 'object' || batch.images === null) {
      throw invalidParameterError('batch', 'a batch returned by next()', batch);
    }
    return !this.closed && this.gather.giveBack(batch.images);
  }

  /** Stop the workers and close the stores the stream opened. position() stays valid. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    await this.runner.close();
    for (const s of this.owned) await s.close().catch(() => {});
    this.gather.clear();
  }

  // ----- dispatch -----

  private produce(): SampleTask | undefined {
    if (!this.sampler.nextInto(this.slot)) return undefined;
    const s = this.slot;
    const task: GatherTask = {
      seq: this.seq++, recordIndex: s.recordIndex, sourceIndex: s.sourceIndex, epoch: s.epoch, offset: s.offset, globalOffset: s.globalOffset,
    };
    this.gather.place(task, this.failuresSeen);
    return task;
  }

  // ----- gather -----

  private async nextBatch(): Promise<Batch | null> {
    if (this.closed) throw new ClosedError('image stream');
    this.gather.recycleLent();
    if (this.ended) return null;
    const B = this.config.batch;
    // Samples gathered before a thrown sample error stay for the next call (none is lost).
    const entries = this.carry;
    this.carry = [];
    let last = entries.at(-1)?.task;
    while (entries.length < B) {
      const next = await this.queue.shift();
      if (next === undefined) break;
      const task = next.task as GatherTask;
      let entry: GatherEntry | undefined;
      try {
        entry = this.accept(task, next.outcome);
      } catch (error) {
        this.carry = entries;
        throw error;
      }
      last = task;
      if (entry !== undefined) entries.push(entry);
    }
    if (last !== undefined) this.current = this.positionAfter(last);
    if (entries.length === 0) {
      this.ended = true;
      return null;
    }
    if (entries.length < B) this.ended = true;
    const batch = this.gather.assemble(entries, { ...this.current });
    this.batches++;
    return batch;
  }

  /** Check an outcome; failures are thrown or counted (skip). */
  private accept(task: GatherTask, outcome: SampleOutcome): GatherEntry | undefined {
    const source = task.sourceIndex === 0 ? this.store : this.mixin!;
    try {
      if (!outcome.ok) throw new SampleError(outcome.error!, source.name);
      const meta = source.meta(task.recordIndex);
      if (this.layout.labelKind === 'onehot' && !(Number.isInteger(meta.label) && meta.label >= 0 && meta.label < this.layout.onehot)) {
        throw new SampleError({ name: 'LabelError', code: 'FORMAT', message: new LabelError(`label ${meta.label} cannot be one-hot encoded with onehot ${this.layout.onehot}`, task.recordIndex).message, recordIndex: task.recordIndex, sourceIndex: task.sourceIndex }, source.name);
      }
      this.gather.observe(outcome.shape!);
      this.adjustPrefetch(outcome.shape!);
      return { task, outcome, label: meta.label, id: meta.id };
    } catch (error) {
      this.gather.release(task);
      if (this.onError === 'throw') throw error;
      this.skipped++;
      this.failuresSeen++;
      return undefined;
    }
  }

  private adjustPrefetch(shape: SampleShape): void {
    const bytes = imageElementCount(shape) * (this.layout.dtype === 'uint8' ? 1 : 4) + (shape.labelChannels * shape.width * shape.height * 4);
    const threads = this.runner.threads;
    const byBytes = Math.floor((threads * IN_FLIGHT_BYTES_PER_THREAD) / Math.max(1, bytes));
    const wanted = threads === 0 ? 0 : Math.min(Math.max(this.config.preload, 1), byBytes);
    this.queue.limit = Math.min(this.maxInFlight, Math.max(this.windowFloor(), wanted));
  }

  private positionAfter(task: GatherTask): StreamPosition {
    // Branch-free, like Sampler.nextInto: no code path first taken at the end of an epoch.
    const wraps = task.offset + 1 >= this.sampler.epochSize();
    return { epoch: task.epoch + (wraps ? 1 : 0), offset: wraps ? 0 : task.offset + 1 };
  }
}

function isStore(value: unknown): value is Store {
  return typeof value === 'object' && value !== null && typeof (value as Store).get === 'function' && typeof (value as Store).meta === 'function';
}

/** What a worker needs to read a local .picpac file with this thread's index (no second open), or undefined. */
function snapshotOf(store: Store): PicpacReaderSnapshot | undefined {
  return store instanceof PicpacReader ? store.snapshot() : undefined;
}

/** A path or URL that a worker can open itself, or undefined (in-memory stores). */
function pathOf(store: Store): string | undefined {
  const name = store.name;
  if (typeof name !== 'string' || name === '') return undefined;
  if (isUrl(name)) return name;
  return existsSync(name) ? name : undefined;
}

export type { StageTimes };
