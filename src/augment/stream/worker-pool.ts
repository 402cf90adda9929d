// Who runs the samples, and in which order they come back.
//
// SampleRunner: WorkerPool (T worker_threads, each with its own store handles and cache) or
// InlineRunner (threads = 0: the same SamplePipeline on the calling thread). Both return a
// promise per task; results are identical because a sample depends only on its task.
// PrefetchQueue: keeps up to `limit` tasks in flight and hands outcomes back strictly in
// dispatch (stream) order, whatever order the workers finish in.
//
// Routing: with the cache on, record r always goes to worker r mod T, so each worker's cache
// holds a disjoint 1/T of the records and is hit on every later epoch. Without a cache, a task
// goes to the worker with the fewest tasks outstanding (ties: lowest index).
//
// Messages are chunked: the tasks dispatched in one synchronous fill() go to each worker as ONE
// 'tasks' message (flushed on a microtask), and a worker answers with 'outcomes' messages of up
// to OUTCOMES_PER_MESSAGE samples (stream-worker.ts). The queue refills only when a quarter of
// its places are free, so chunks stay large in steady state: at thousands of small samples per
// second, one message per sample each way kept the main thread busy (issue 10).
import type { Worker } from 'node:worker_threads';
import type { Store } from '../../engine/store.ts';
import type { PicpacReaderSnapshot } from '../../engine/picpac/picpac-reader.ts';
import { ClosedError, PicpacError } from '../../errors.ts';
import { batchLayout, finishStagedImage, finishStagedLabelMap } from './batch.ts';
import type { BatchArena } from './batch-arena.ts';
import { SharedConverter } from '../pixels/convert-simd.ts';
import type { BatchLayout } from './batch.ts';
import type { StreamConfig } from '../config-schema.ts';
import { STAGED_IMAGE, STAGED_LABEL, SamplePipeline, addStageTimes, emptyStageTimes, usesAnnotation } from './sample-pipeline.ts';
import type { SampleOutcome, SampleTask, StageTimes } from './sample-pipeline.ts';
import type { SampleCacheStats } from './sample-cache.ts';
import type { StreamWorkerData } from './stream-worker.ts';
import { startTsWorker, terminateWorker } from './ts-worker.ts';
import { streamWorkerEntry, takeSpareWorkers } from './spare-workers.ts';
import { CallerReads } from './caller-reads.ts';

export interface RunnerStats {
  times: StageTimes;
  cache: SampleCacheStats | undefined;
}

export interface SampleRunner {
  readonly threads: number;
  /** True: PrefetchQueue refills in chunks (about a quarter of its limit) rather than per sample. */
  readonly chunkedDispatch: boolean;
  /** Who converts pixels into the batch: the thread running the sample, or the caller (staged). */
  readonly conversion: 'worker' | 'caller';
  /** True when the caller reads the records for the workers (caller-reads.ts). */
  readonly callerReads: boolean;
  run(task: SampleTask): Promise<SampleOutcome>;
  stats(): Promise<RunnerStats>;
  close(): Promise<void>;
}

function mergeCache(into: SampleCacheStats | undefined, from: SampleCacheStats | undefined): SampleCacheStats | undefined {
  if (from === undefined) return into;
  if (into === undefined) return { ...from };
  for (const key of Object.keys(into) as (keyof SampleCacheStats)[]) into[key] += from[key];
  return into;
}

/** threads = 0: run on the calling thread, with the caller's Store objects (no path needed). */
export class InlineRunner implements SampleRunner {
  readonly threads = 0;
  readonly chunkedDispatch = false;
  readonly conversion = 'worker';
  readonly callerReads = false;
  private readonly pipeline: SamplePipeline;
  /**
   * @param [arena] the stream's shared memory of reused batches: this thread converts into it
   *   with its slot 0, and a decode-only sample is decoded straight into its place (as a worker does)
   */
  constructor(stores: readonly (Store | undefined)[], config: StreamConfig, layout: BatchLayout, cacheBytes: number, arena?: BatchArena) {
    this.pipeline = new SamplePipeline(stores, config, layout, cacheBytes, false, arena && new SharedConverter(arena.memory, 0));
  }
  run(task: SampleTask): Promise<SampleOutcome> {
    return this.pipeline.run(task, this.pipeline.read(task));
  }
  async stats(): Promise<RunnerStats> {
    return { times: { ...this.pipeline.times }, cache: this.pipeline.cacheStats() };
  }
  async close(): Promise<void> {}
}

interface PoolWorker {
  worker: Worker;
  outstanding: number;
}

export interface WorkerPoolOptions {
  threads: number;
  storePath: string;
  mixinPath?: string;
  /**
   * The opened stores' reader state (PicpacReader.snapshot), when they are local .picpac files:
   * the workers then read with the caller's index instead of opening it again each.
   */
  storeSnapshot?: PicpacReaderSnapshot;
  mixinSnapshot?: PicpacReaderSnapshot;
  config: StreamConfig;
  /** Cache bytes for the whole pool (each worker gets an equal share). */
  cacheBytes: number;
  /**
   * The pool's thread finishes the conversion of in-place samples as their outcomes
   * arrive (batch.ts "staged conversion"), as the original's next() did: worth it when a core is
   * free for it, i.e. fewer workers than cores. Default false.
   */
  stageOutput?: boolean;
  /** The shared memory of the batch tensors (reused buffers): slot 0 is this thread's, slot i + 1 worker i's. */
  arena?: BatchArena;
  /**
   * The opened stores (by sourceIndex) this thread reads records from for the workers
   * (caller-reads.ts): given with stageOutput when there is no cache. Default: the workers read.
   */
  callerReads?: readonly (Store | undefined)[];
}

const CLOSE_TIMEOUT_MS = 5000;

export class WorkerPool implements SampleRunner {
  readonly threads: number;
  readonly chunkedDispatch = true;
  readonly conversion: 'worker' | 'caller';
  private readonly workers: PoolWorker[];
  /** Tasks dispatched since the last flush, per worker. */
  private readonly outbox: SampleTask[][];
  private flushScheduled = false;
  private readonly pending = new Map<number, { task: SampleTask; resolve: (o: SampleOutcome) => void; reject: (e: unknown) => void; worker: number }>();
  private readonly layout: BatchLayout;
  /** This thread's converter for staged samples in the arena. */
  private readonly shared: SharedConverter | undefined;
  /** Milliseconds this thread spent finishing staged samples (added to the batch stage), and how many. */
  private finishMs = 0;
  private finished = 0;
  private readonly routeByRecord: boolean;
  private readonly reads: CallerReads | undefined;
  readonly callerReads: boolean;
  private statsWaiters: ((s: RunnerStats) => void)[] = [];
  private statsReplies: RunnerStats[] = [];
  private failure: unknown;
  private closed = false;

  /**
   * Set to 1 on close: workers drop the samples they have not started (a closing stream's
   * prefetch window — tens of ms of decoding for large images — is otherwise computed for nobody).
   */
  private readonly control: Int32Array;

  private constructor(workers: PoolWorker[], routeByRecord: boolean, control: Int32Array, config: StreamConfig, stageOutput: boolean, arena: BatchArena | undefined, callerReads: readonly (Store | undefined)[] | undefined) {
    const layout = batchLayout(config);
    this.control = control;
    this.reads = callerReads && new CallerReads(callerReads, { annotation: usesAnnotation(config) });
    this.callerReads = this.reads !== undefined;
    this.shared = arena && new SharedConverter(arena.memory, 0);
    this.conversion = stageOutput ? 'caller' : 'worker';
    this.layout = layout;
    this.workers = workers;
    this.threads = workers.length;
    this.routeByRecord = routeByRecord;
    this.outbox = workers.map(() => []);
    workers.forEach((w, index) => {
      w.worker.on('message', (message: { type: string; outcomes?: SampleOutcome[]; times?: StageTimes; cache?: SampleCacheStats }) => {
        if (message.type === 'outcomes') for (const outcome of message.outcomes!) this.settle(outcome);
        else if (message.type === 'stats') this.collectStats({ times: message.times ?? emptyStageTimes(), cache: message.cache });
      });
      w.worker.on('error', (error) => this.fail(new PicpacError('IO', `stream worker ${index} failed: ${error.message}`, { cause: error })));
      w.worker.on('exit', (code) => {
        if (!this.closed) this.fail(new PicpacError('IO', `stream worker ${index} exited unexpectedly (code ${code})`));
      });
    });
  }

  /** Start `threads` workers and wait until each has opened the store(s). */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const { threads, storePath, mixinPath, config } = options;
    const control = new Int32Array(new SharedArrayBuffer(4));
    const data: StreamWorkerData = {
      storePath, mixinPath, storeSnapshot: options.storeSnapshot, mixinSnapshot: options.mixinSnapshot, config: { ...config }, cacheBytes: Math.floor(options.cacheBytes / threads),
      stageOutput: options.stageOutput === true, control: control.buffer as SharedArrayBuffer,
    };
    const spares = takeSpareWorkers(threads);
    const workers: PoolWorker[] = [];
    const ready: Promise<void>[] = [];
    for (let i = 0; i < threads; i++) {
      const own: StreamWorkerData = options.arena === undefined ? data : { ...data, arena: { memory: options.arena.memory, slot: i + 1 } };
      const spare = spares[i];
      spare?.ref(); // until it is ready, as a fresh worker is
      spare?.postMessage({ type: 'init', data: own });
      const worker = spare ?? startTsWorker(streamWorkerEntry(), own, { name: `picpac-stream-${i}` });
      workers.push({ worker, outstanding: 0 });
      ready.push(new Promise<void>((resolve, reject) => {
        const onMessage = (message: { type: string; error?: { message: string } }) => {
          if (message.type === 'ready') {
            worker.off('message', onMessage);
            resolve();
          } else if (message.type === 'init-error') {
            worker.off('message', onMessage);
            reject(new PicpacError('IO', `stream worker ${i} could not open ${storePath}: ${message.error!.message}`));
          }
        };
        worker.on('message', onMessage);
        worker.once('error', reject);
      }));
    }
    const pool = new WorkerPool(workers, config.cache && options.cacheBytes > 0, control, config, data.stageOutput, options.arena, options.callerReads);
    try {
      await Promise.all(ready);
    } catch (error) {
      await pool.close();
      throw error;
    }
    // Idle workers do not keep the process alive (a forgotten close() does not hang exit);
    // a worker with tasks outstanding does, so a pending next() always completes.
    for (const w of workers) w.worker.unref();
    return pool;
  }

  run(task: SampleTask): Promise<SampleOutcome> {
    if (this.closed) return Promise.reject(new ClosedError('stream worker pool'));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    let chosen = 0;
    if (this.routeByRecord) {
      chosen = (task.recordIndex + task.sourceIndex) % this.workers.length;
    } else {
      for (let i = 1; i < this.workers.length; i++) if (this.workers[i].outstanding < this.workers[chosen].outstanding) chosen = i;
    }
    const w = this.workers[chosen];
    if (w.outstanding++ === 0) w.worker.ref();
    const record = this.reads?.read(task.seq, task.sourceIndex, task.recordIndex);
    if (record !== undefined) task.record = record;
    return new Promise<SampleOutcome>((resolve, reject) => {
      this.pending.set(task.seq, { task, resolve, reject, worker: chosen });
      this.outbox[chosen].push(task);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  /** One 'tasks' message per worker for everything dispatched since the last flush. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.failure !== undefined) return;
    this.outbox.forEach((tasks, i) => {
      if (tasks.length === 0) return;
      this.outbox[i] = [];
      this.workers[i].worker.postMessage({ type: 'tasks', tasks });
    });
  }

  private settle(outcome: SampleOutcome): void {
    const entry = this.pending.get(outcome.seq);
    if (entry === undefined) return;
    this.pending.delete(outcome.seq);
    this.reads?.release(outcome.seq);
    entry.task.record = undefined;
    const w = this.workers[entry.worker];
    w.outstanding--;
    this.unrefIfIdle(w);
    if (outcome.staged) this.finishStaged(entry.task, outcome);
    entry.resolve(outcome);
  }

  /** Convert a staged sample's pixels in its place: the outcome is then like any in-place one. */
  private finishStaged(task: SampleTask, outcome: SampleOutcome): void {
    const t0 = performance.now();
    const dest = task.dest!;
    const shared = dest.arena ? this.shared : undefined;
    if (outcome.staged! & STAGED_IMAGE) finishStagedImage(outcome.shape!, this.layout, dest.images, dest.index, shared);
    if (outcome.staged! & STAGED_LABEL) finishStagedLabelMap(outcome.shape!, dest.labels!, dest.index, shared);
    outcome.staged = 0;
    this.finishMs += performance.now() - t0;
    this.finished++;
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    for (const entry of this.pending.values()) entry.reject(error);
    this.pending.clear();
  }

  /** Nothing outstanding and no stats request waiting: let the process exit without close(). */
  private unrefIfIdle(w: PoolWorker): void {
    if (w.outstanding === 0 && this.statsWaiters.length === 0) w.worker.unref();
  }

  /** Stage times and cache statistics summed over the workers. */
  stats(): Promise<RunnerStats> {
    if (this.closed || this.failure !== undefined) return Promise.resolve({ times: emptyStageTimes(), cache: undefined });
    return new Promise((resolve) => {
      this.statsWaiters.push(resolve);
      if (this.statsWaiters.length === 1) {
        this.statsReplies = [];
        for (const w of this.workers) {
          w.worker.ref();
          w.worker.postMessage({ type: 'stats' });
        }
      }
    });
  }

  private collectStats(reply: RunnerStats): void {
    this.statsReplies.push(reply);
    if (this.statsReplies.length < this.workers.length) return;
    const total: RunnerStats = { times: emptyStageTimes(), cache: undefined };
    for (const r of this.statsReplies) {
      addStageTimes(total.times, r.times);
      total.cache = mergeCache(total.cache, r.cache);
    }
    total.times.batch += this.finishMs;
    total.times.stagedSamples += this.finished;
    total.times.callerReads += this.reads?.count ?? 0;
    const waiters = this.statsWaiters;
    this.statsWaiters = [];
    for (const w of this.workers) this.unrefIfIdle(w);
    for (const resolve of waiters) resolve({ times: { ...total.times }, cache: total.cache && { ...total.cache } });
  }

  /** Ask every worker to drop its queue, close its stores and exit; terminate stragglers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, 0, 1);
    this.fail(new ClosedError('stream worker pool'));
    await Promise.all(this.workers.map(async ({ worker }) => {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      try {
        worker.postMessage({ type: 'close' });
      } catch {
        // already gone
      }
      const timer = setTimeout(() => void terminateWorker(worker), CLOSE_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }));
  }
}

interface InFlight {
  task: SampleTask;
  outcome: Promise<SampleOutcome>;
}

/**
 * Ordered prefetch over a runner: `fill()` dispatches tasks from `produce` until `limit` are in
 * flight; `shift()` resolves with the oldest task's outcome (stream order).
 */
export class PrefetchQueue {
  private readonly inFlight: InFlight[] = [];
  private head = 0;

  constructor(
    private readonly runner: SampleRunner,
    private readonly produce: () => SampleTask | undefined,
    public limit: number,
  ) {}

  /** Refill once a chunk of places is free (a quarter of the limit, ≤ 16) with chunked dispatch, else at once. */
  private refill(): void {
    const step = this.runner.chunkedDispatch ? Math.max(1, Math.min(16, Math.floor(this.limit / 4))) : 1;
    if (this.size <= this.limit - step) this.fill();
  }

  get size(): number {
    return this.inFlight.length - this.head;
  }

  fill(): void {
    while (this.size < this.limit) {
      const task = this.produce();
      if (task === undefined) return;
      const outcome = this.runner.run(task);
      outcome.catch(() => {}); // surfaced by shift()
      this.inFlight.push({ task, outcome });
    }
  }

  /** The oldest task and its outcome, or undefined when nothing is in flight and nothing is left. */
  async shift(): Promise<{ task: SampleTask; outcome: SampleOutcome } | undefined> {
    this.refill();
    if (this.size === 0) return undefined;
    const entry = this.inFlight[this.head];
    this.inFlight[this.head++] = undefined as never;
    if (this.head > 1024 && this.head * 2 > this.inFlight.length) {
      this.inFlight.splice(0, this.head);
      this.head = 0;
    }
    const outcome = await entry.outcome;
    this.refill();
    return { task: entry.task, outcome };
  }
}
